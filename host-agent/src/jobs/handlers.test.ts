import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type {
  ExecuteRequest,
  ExportPayload,
  GeneratePayload,
  JobKind,
  RepairPayload,
} from "../../../shared/src/index.ts";
import { createLlmClient, type LlmClient } from "../ipc/index.ts";
import { startAgent, tempDir, until, type RunningAgent } from "../ipc/test-support.ts";
import { createLogger } from "../log.ts";
import { DockerSandbox } from "../sandbox/docker-sandbox.ts";
import { TEST_POLICY } from "../sandbox/test-support.ts";
import { createHandlers, type SandboxRunner } from "./handlers.ts";
import { JobRunner } from "./job-runner.ts";
import { RecordingReporter, assignment } from "./test-support.ts";

const logger = createLogger("silent");
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host-agent's job side as the host-agent builds it: the real handlers on a real runner. */
function jobSide(
  deps: { socketPath?: string; sandbox?: SandboxRunner | null; exportDir?: string; edgeUrl?: string } = {},
  tokenFlushMs = 0,
): { runner: JobRunner; reporter: RecordingReporter; llm: LlmClient } {
  const llm = createLlmClient(
    {
      ATOMIC_IPC_SOCKET: deps.socketPath ?? "/nonexistent/agent.sock",
      ATOMIC_IPC_POOL_SIZE: 2,
      ATOMIC_IPC_TIMEOUT_MS: 30_000,
      // Only the checks a test causes: a periodic one could change the health at any moment.
      ATOMIC_IPC_HEALTH_MS: 600_000,
    },
    logger,
  );
  cleanups.push(() => llm.close());
  const runner = new JobRunner({
    capacity: 4,
    logger,
    tokenFlushMs,
    handlers: createHandlers({
      llm,
      sandbox: deps.sandbox ?? null,
      exportDir: deps.exportDir ?? "/nonexistent/exports",
      edgeUrl: deps.edgeUrl ?? "http://127.0.0.1:9",
      token: "agent-token",
    }),
  });
  const reporter = new RecordingReporter();
  runner.attach(reporter);
  return { runner, reporter, llm };
}

function generatePayload(prompt: string): GeneratePayload {
  return {
    prompt,
    requirements: { language: "python", framework: null, entry_file: "main.py", summary: prompt, source: "rules" },
    metadata: {},
  };
}

/** The text of a job's token events, in order. */
function streamed(reporter: RecordingReporter, jobId: string): string {
  return reporter
    .events(jobId)
    .map(({ event }) => (event.kind === "token" ? event.text : ""))
    .join("");
}

describe("LLM jobs against the real Python agent", () => {
  let agent: RunningAgent;
  let slowAgent: RunningAgent;
  beforeAll(async () => {
    [agent, slowAgent] = await Promise.all([
      startAgent(),
      // About 20 ms between chunks: a program of some fifty chunks takes about a second.
      startAgent({ env: { ATOMIC_LLM_OFFLINE_DELAY_MS: "20" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([agent?.stop(), slowAgent?.stop()]);
  });

  it("llm.parse: answers the agent's requirements as the edge's parse result, with no events", async () => {
    const { runner, reporter } = jobSide({ socketPath: agent.socketPath });
    runner.assign(
      assignment("p/parsing", {
        kind: "llm.parse",
        payload: { prompt: "Create a REST API for user management in TypeScript with Express", metadata: {} },
      }),
    );
    const result = await reporter.result("p/parsing");

    expect(reporter.of("p/parsing").map((f) => f.type)).toEqual(["job.accepted", "job.result"]);
    expect(result.events).toBe(0);
    // The agent also says where its answer came from (`source`); the edge's parse result has no such field.
    expect(result.outcome).toEqual({
      ok: true,
      result: {
        language: "typescript",
        framework: "express",
        entry_file: expect.any(String),
        summary: expect.any(String),
      },
    });
  });

  it("llm.generate: streams the program as token events numbered from 1; the result's chars match the text", async () => {
    const { runner, reporter } = jobSide({ socketPath: agent.socketPath });
    runner.assign(assignment("p/generating", { payload: generatePayload("Hello World in Python") }));
    const result = await reporter.result("p/generating");
    const events = reporter.events("p/generating");
    const text = streamed(reporter, "p/generating");

    expect(events.length).toBeGreaterThan(10);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(text).toContain('```python main.py\ndef main() -> None:\n    print("Hello, World!")');
    expect(result.events).toBe(events.length);
    expect(result.outcome).toEqual({
      ok: true,
      result: { chars: text.length, finish_reason: "stop", provider: "offline", model: expect.any(String) },
    });
    expect(reporter.sent.at(-1)).toBe(result);
  });

  it("llm.generate with a flush window: the same text in fewer, larger token events", async () => {
    const unbatched = jobSide({ socketPath: agent.socketPath }, 0);
    const batched = jobSide({ socketPath: agent.socketPath }, 50);
    unbatched.runner.assign(assignment("one-by-one", { payload: generatePayload("Hello World in Python") }));
    batched.runner.assign(assignment("batched", { payload: generatePayload("Hello World in Python") }));
    await Promise.all([unbatched.reporter.result("one-by-one"), batched.reporter.result("batched")]);

    expect(streamed(batched.reporter, "batched")).toBe(streamed(unbatched.reporter, "one-by-one"));
    expect(batched.reporter.events("batched").length).toBeLessThan(unbatched.reporter.events("one-by-one").length);
  });

  it("refuses a malformed payload as invalid_request, not retryable, naming the field", async () => {
    const { runner, reporter } = jobSide({ socketPath: agent.socketPath });
    runner.assign(assignment("bad-generate", { payload: { prompt: "no requirements", metadata: {} } }));
    runner.assign(assignment("bad-parse", { kind: "llm.parse", payload: { prompt: 42, metadata: {} } }));
    const [generate, parse] = await Promise.all([reporter.result("bad-generate"), reporter.result("bad-parse")]);

    expect(generate.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: expect.stringMatching(/^llm\.generate payload: requirements: /),
        retryable: false,
      },
    });
    expect(parse.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: expect.stringMatching(/^llm\.parse payload: prompt: /),
        retryable: false,
      },
    });
  });

  it("llm.repair: streams the fixed files as token events, leaves pinned files out, and its chars match", async () => {
    const { runner, reporter } = jobSide({ socketPath: agent.socketPath });
    const payload: RepairPayload = {
      prompt: "Hello World in Python",
      language: "python",
      files: [
        { path: "main.py", content: 'print("Hello")\n' },
        { path: "test_hello.py", content: "from main import main\n" },
      ],
      pinned: ["test_hello.py"],
      failures: "test_hello.py: ImportError: cannot import name 'main' from 'main'",
      round: 1,
    };
    runner.assign(assignment("p/repairing", { kind: "llm.repair", payload }));
    const result = await reporter.result("p/repairing");
    const events = reporter.events("p/repairing");
    const text = streamed(reporter, "p/repairing");

    expect(events.length).toBeGreaterThan(10);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(text).toContain("repair round 1");
    expect(text).toContain('```python main.py\ndef main() -> None:\n    print("Hello, World!")');
    expect(text).not.toContain("test_hello.py");
    expect(result.outcome).toEqual({
      ok: true,
      result: { chars: text.length, finish_reason: "stop", provider: "offline", model: expect.any(String) },
    });
  });

  it("llm.repair refuses a payload without files as invalid_request, not retryable", async () => {
    const { runner, reporter } = jobSide({ socketPath: agent.socketPath });
    const payload = { prompt: "x", language: "python", files: [], pinned: [], failures: "", round: 1 };
    runner.assign(assignment("bad-repair", { kind: "llm.repair", payload }));
    const result = await reporter.result("bad-repair");

    expect(result.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: expect.stringMatching(/^llm\.repair payload: files: /),
        retryable: false,
      },
    });
  });

  it("a deadline reached mid-stream: the tokens so far, then a retryable timeout, and the agent stops", async () => {
    const { runner, reporter } = jobSide({ socketPath: slowAgent.socketPath });
    runner.assign(assignment("late", { payload: generatePayload("Hello World in Python"), deadline_ms: 300 }));
    const result = await reporter.result("late");
    const events = reporter.events("late");

    expect(events.length).toBeGreaterThan(0);
    expect(result.events).toBe(events.length);
    expect(result.outcome).toEqual({
      ok: false,
      error: { code: "timeout", message: "llm.generate ran past its deadline of 300 ms", retryable: true },
    });
    await until(() => slowAgent.logs().includes('"msg": "request cancelled"'));
  });

  it("job.cancel mid-stream: nothing more is sent for the job, and the agent stops", async () => {
    const { runner, reporter } = jobSide({ socketPath: slowAgent.socketPath });
    const before = slowAgent.logs().split('"msg": "request cancelled"').length;
    runner.assign(assignment("cancelled", { payload: generatePayload("Hello World in Python") }));
    await reporter.waitFor((f) => f.type === "job.event" && f.job_id === "cancelled");
    runner.cancel("cancelled", 1, "the client cancelled the pipeline");
    const sentAtCancel = reporter.sent.length;
    await until(() => runner.running().length === 0);

    expect(reporter.sent.slice(sentAtCancel - 1)).toEqual([{ type: "forget", job_id: "cancelled", attempt: 1 }]);
    await until(() => slowAgent.logs().split('"msg": "request cancelled"').length > before);
  });
});

describe("LLM jobs when the agent is gone", () => {
  it("the edge hears that the LLM agent is unavailable before it hears that the job failed (retryable)", async () => {
    const agent = await startAgent({ env: { ATOMIC_LLM_OFFLINE_DELAY_MS: "20" } });
    cleanups.push(() => agent.stop());
    const { runner, reporter, llm } = jobSide({ socketPath: agent.socketPath });
    llm.start();
    await until(() => llm.health().status === "healthy");
    // What the host-agent does on a health change: a heartbeat to the edge at once.
    let unavailableAt: number | null = null;
    llm.onHealthChange(() => {
      if (llm.health().status === "unavailable") unavailableAt ??= reporter.sent.length;
    });
    runner.assign(assignment("orphan", { payload: generatePayload("Hello World in Python") }));
    await reporter.waitFor((f) => f.type === "job.event" && f.job_id === "orphan");
    await agent.kill();
    const result = await reporter.result("orphan");

    expect(result.outcome).toMatchObject({ ok: false, error: { code: "llm_unavailable", retryable: true } });
    expect(unavailableAt).not.toBeNull();
    expect(unavailableAt).toBeLessThanOrEqual(reporter.sent.indexOf(result));
  });

  it("an agent that never answered: llm_unavailable, retryable", async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { runner, reporter } = jobSide({ socketPath: join(dir, "nobody.sock") });
    runner.assign(assignment("unheard", { kind: "llm.parse", payload: { prompt: "hello", metadata: {} } }));
    const result = await reporter.result("unheard");

    expect(result.outcome).toMatchObject({ ok: false, error: { code: "llm_unavailable", retryable: true } });
  });
});

/** A local stand-in for the edge's file downloads: answers each path with a status and body. */
async function fileServer(
  routes: Record<string, { status: number; body: string }>,
): Promise<{ url: string; requests: Array<{ path: string; headers: IncomingHttpHeaders }> }> {
  const requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", headers: req.headers });
    const route = routes[req.url ?? ""] ?? { status: 404, body: "not found" };
    res.writeHead(route.status, { "content-type": "application/octet-stream" }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the file server has no TCP port");
  return { url: `http://127.0.0.1:${address.port}`, requests };
}

function manifestEntry(path: string, url: string, body: string): ExportPayload["files"][number] {
  return { path, url, size: Buffer.byteLength(body), sha256: createHash("sha256").update(body).digest("hex") };
}

describe("export jobs", () => {
  it("downloads each file with the agent token, says how many in a progress event, writes them, and says where", async () => {
    const exportDir = await tempDir("atomic-export-");
    cleanups.push(() => rm(exportDir, { recursive: true, force: true }));
    const main = "print('hi')\n";
    const readme = "# hi\n";
    const edge = await fileServer({
      "/f/main.py": { status: 200, body: main },
      "/f/README.md": { status: 200, body: readme },
    });
    const { runner, reporter } = jobSide({ exportDir, edgeUrl: edge.url });
    const payload: ExportPayload = {
      pipeline_id: "p-export",
      target: { type: "filesystem" },
      files: [manifestEntry("main.py", "/f/main.py", main), manifestEntry("docs/README.md", "/f/README.md", readme)],
    };
    runner.assign(assignment("p-export/exporting", { kind: "export", payload }));
    const result = await reporter.result("p-export/exporting");

    expect(reporter.of("p-export/exporting").slice(1)).toEqual([
      {
        v: 1,
        type: "job.event",
        job_id: "p-export/exporting",
        attempt: 1,
        seq: 1,
        event: { kind: "progress", message: "downloaded 2 files" },
      },
      result,
    ]);
    expect(result.outcome).toEqual({
      ok: true,
      result: { type: "filesystem", path: join(exportDir, "p-export"), files: 2 },
    });
    expect(await readFile(join(exportDir, "p-export/docs/README.md"), "utf8")).toBe(readme);
    expect(edge.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ["/f/main.py", "Bearer agent-token"],
      ["/f/README.md", "Bearer agent-token"],
    ]);
  });

  it("a download the edge fails: export_error, retryable for a 5xx and not for a 4xx", async () => {
    const edge = await fileServer({ "/busy": { status: 503, body: "" }, "/gone": { status: 404, body: "" } });
    const { runner, reporter } = jobSide({ edgeUrl: edge.url });
    for (const [id, url] of [
      ["busy", "/busy"],
      ["gone", "/gone"],
    ] as const) {
      const payload: ExportPayload = {
        pipeline_id: id,
        target: { type: "filesystem" },
        files: [manifestEntry("main.py", url, "x")],
      };
      runner.assign(assignment(id, { kind: "export", payload }));
    }
    const [busy, gone] = await Promise.all([reporter.result("busy"), reporter.result("gone")]);

    expect(busy.outcome).toEqual({
      ok: false,
      error: { code: "export_error", message: "downloading main.py answered 503", retryable: true },
    });
    expect(gone.outcome).toEqual({
      ok: false,
      error: { code: "export_error", message: "downloading main.py answered 404", retryable: false },
    });
  });

  it("refuses a file URL off the edge as invalid_request, and fetches nothing", async () => {
    const edge = await fileServer({});
    const { runner, reporter } = jobSide({ edgeUrl: edge.url });
    const payload: ExportPayload = {
      pipeline_id: "p",
      target: { type: "filesystem" },
      files: [manifestEntry("main.py", "http://attacker.invalid/main.py", "x")],
    };
    runner.assign(assignment("offsite", { kind: "export", payload }));
    const result = await reporter.result("offsite");

    expect(result.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: "export file URL http://attacker.invalid/main.py is not on the edge",
        retryable: false,
      },
    });
    expect(edge.requests).toEqual([]);
  });
});

describe("sandbox jobs", () => {
  const kinds = (sandbox: SandboxRunner | null): JobKind[] => jobSide({ sandbox }).runner.kinds;

  it("are offered only by a host with a sandbox", () => {
    const sandbox = new DockerSandbox({ limits: TEST_POLICY, warm: 0 });
    cleanups.push(() => sandbox.close());
    expect(kinds(null)).toEqual(["llm.parse", "llm.generate", "llm.repair", "export"]);
    expect(kinds(sandbox)).toEqual([
      "llm.parse",
      "llm.generate",
      "llm.repair",
      "export",
      "sandbox.execute",
      "sandbox.verify",
    ]);
  });

  it("refuse a malformed request, and one above this host's limits, as invalid_request, not retryable", async () => {
    const sandbox = new DockerSandbox({ limits: TEST_POLICY, warm: 0 });
    cleanups.push(() => sandbox.close());
    const { runner, reporter } = jobSide({ sandbox });
    const tooBig: ExecuteRequest = {
      language: "python",
      code: "print(1)",
      limits: { memory_bytes: 4096 * 1024 * 1024 },
    };
    runner.assign(assignment("malformed", { kind: "sandbox.execute", payload: { language: "cobol", code: "x" } }));
    runner.assign(assignment("too-big", { kind: "sandbox.execute", payload: tooBig }));
    const [malformed, big] = await Promise.all([reporter.result("malformed"), reporter.result("too-big")]);

    expect(malformed.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: expect.stringMatching(/^sandbox\.execute payload: language: /),
        retryable: false,
      },
    });
    expect(big.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: `limits.memory_bytes = ${4096 * 1024 * 1024} is above this host's maximum of ${512 * 1024 * 1024}`,
        retryable: false,
      },
    });
  });
});
