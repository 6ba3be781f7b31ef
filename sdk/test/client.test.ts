import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../../test/support/fake-agent.ts";
import { AtomicApiError, AtomicClient, type ClientEvent } from "../src/index.ts";
import { insideDir, writeArtifacts } from "../src/node.ts";
import { collect, waitUntil } from "./helpers.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
let client: AtomicClient;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge);
  client = new AtomicClient({ baseUrl: edge.url });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const PROGRAM = [
  "Here it is:\n\n```python main.py\n",
  "print(",
  '"Hello, World!"',
  ")\n```\n\n```python util/add.py\ndef add(a, b):\n    return a + b\n```\n",
];

describe("generate", () => {
  it("waits and answers the GenerateResponse", async () => {
    const pending = client.generate({ prompt: "Hello World in Python", metadata: { language: "python" } });
    agent.generate(await agent.nextJob(), PROGRAM);
    const result = await pending;
    expect(result.content).toBe(PROGRAM.join(""));
    expect(result.state).toBe("COMPLETED");
    expect(result.artifacts?.files.map((f) => f.path).sort()).toEqual(["main.py", "util/add.py"]);
  });

  it("follows the events when the edge answers 202, and answers the same shape", async () => {
    const pending = client.generate({ prompt: "Hello World in Python", metadata: { language: "python" }, async: true });
    agent.generate(await agent.nextJob(), PROGRAM);
    const result = await pending;
    expect(result.content).toBe(PROGRAM.join(""));
    expect(result.state).toBe("COMPLETED");
    expect(result.requirements).not.toBeNull();
    expect(result.stages.map((s) => s.stage)).toContain("GENERATING");
  });

  it("throws the pipeline's error as an AtomicApiError with its code, status and ids", async () => {
    for (const async of [false, true]) {
      const pending = client.generate({ prompt: "fails", async }).catch((error: unknown) => error);
      agent.fail(await agent.nextJob(), "llm_error", "the model answered nonsense", false);
      const error = await pending;
      expect(error).toBeInstanceOf(AtomicApiError);
      expect(error).toMatchObject({ code: "llm_error", status: 502, message: expect.stringContaining("nonsense") });
      expect((error as AtomicApiError).requestId).toMatch(/.+/);
      expect((error as AtomicApiError).pipelineId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("refuses an invalid request with invalid_request (400)", async () => {
    const error = await client.generate({ prompt: "" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtomicApiError);
    expect(error).toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("stops at once when its signal aborts", async () => {
    const controller = new AbortController();
    const pending = client
      .generate({ prompt: "never answered" }, { signal: controller.signal })
      .catch((e: unknown) => e);
    const job = await agent.nextJob();
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe("AbortError");
    agent.fail(job, "llm_error", "cleanup", false);
  });
});

describe("stream", () => {
  it("yields typed events once each, in seq order, ending with the result; the deltas make the content", async () => {
    const events: ClientEvent[] = [];
    const done = collect(client.stream({ prompt: "Hello World in Python", metadata: { language: "python" } }), events);
    agent.generate(await agent.nextJob(), PROGRAM);
    await done;
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe("queued");
    const last = events.at(-1);
    expect(last?.type).toBe("result");
    const deltas = events.flatMap((e) => (e.type === "chunk" ? [e.delta] : [])).join("");
    expect(last?.type === "result" && last.content).toBe(deltas);
    expect(deltas).toBe(PROGRAM.join(""));

    // The same pipeline, followed again: everything from the start, or nothing after its end.
    const id = last?.pipeline_id ?? "";
    const replay = await collect(client.stream({ pipelineId: id }));
    expect(replay).toEqual(events);
    const tail = await collect(client.pipelines.events(id, { after: 3 }));
    expect(tail).toEqual(events.slice(3));
    expect(await collect(client.pipelines.events(id, { after: last?.seq ?? 0 }))).toEqual([]);
  });

  it("ends with the error event of a failed pipeline", async () => {
    const events = collect(client.stream({ prompt: "fails" }));
    agent.fail(await agent.nextJob(), "llm_error", "no", false);
    const last = (await events).at(-1);
    expect(last).toMatchObject({ type: "error", code: "llm_error" });
  });

  it("throws the edge's refusal of the request itself", async () => {
    const error = await collect(client.stream({ prompt: "  " })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AtomicApiError", code: "invalid_request", status: 400 });
  });

  it("stops when its signal aborts", async () => {
    const controller = new AbortController();
    const events: ClientEvent[] = [];
    const done = collect(client.stream({ prompt: "aborted" }, { signal: controller.signal }), events).catch(
      (e: unknown) => e,
    );
    const job = await agent.nextJob();
    await waitUntil(() => events.length > 0, 5_000, "the first event");
    controller.abort();
    expect(await done).toMatchObject({ name: "AbortError" });
    agent.fail(job, "llm_error", "cleanup", false);
  });
});

describe("pipelines", () => {
  it("gets and cancels a pipeline; a second cancel is a conflict", async () => {
    const events: ClientEvent[] = [];
    const done = collect(client.stream({ prompt: "to cancel" }), events);
    await agent.nextJob();
    await waitUntil(() => events.length > 0, 5_000, "the first event");
    const id = events[0]?.pipeline_id ?? "";
    const view = await client.pipelines.get(id);
    expect(view).toMatchObject({ pipeline_id: id, state: "GENERATING" });
    expect((await client.pipelines.cancel(id)).state).toBe("CANCELLED");
    expect((await done).at(-1)).toMatchObject({ type: "error", code: "cancelled" });
    const again = await client.pipelines.cancel(id).catch((e: unknown) => e);
    expect(again).toMatchObject({ name: "AtomicApiError", status: 409, code: "conflict" });
  });

  it("answers not_found (404) for a pipeline that does not exist", async () => {
    const error = await client.pipelines.get(crypto.randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtomicApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });
});

describe("artifacts", () => {
  it("reads the manifest, a file and the tar, and writes every file to a folder, checked against the manifest", async () => {
    const pending = client.generate({ prompt: "two files", metadata: { language: "python" } });
    agent.generate(await agent.nextJob(), PROGRAM);
    const { pipeline_id: id } = await pending;
    const manifest = await client.artifacts.manifest(id);
    expect(manifest.files.map((f) => f.path).sort()).toEqual(["main.py", "util/add.py"]);
    expect(new TextDecoder().decode(await client.artifacts.file(id, "util/add.py"))).toContain("def add");
    const tar = new Uint8Array(await new Response(await client.artifacts.tar(id)).arrayBuffer());
    expect(tar.byteLength).toBe(manifest.bundle.size);
    expect(createHash("sha256").update(tar).digest("hex")).toBe(manifest.bundle.sha256);

    const dir = mkdtempSync(join(tmpdir(), "atomic-sdk-"));
    try {
      const written = await writeArtifacts(client, id, dir);
      expect(written.files).toHaveLength(2);
      for (const file of manifest.files) {
        const bytes = readFileSync(join(dir, file.path));
        expect(createHash("sha256").update(bytes).digest("hex")).toBe(file.sha256);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps every path inside the folder", () => {
    expect(insideDir("/out", "a/b.py")).toBe("/out/a/b.py");
    for (const path of ["../x", "a/../../x", "/etc/passwd", "", ".", "a\0b"])
      expect(insideDir("/out", path)).toBeNull();
  });
});

describe("execute, health, metrics", () => {
  it("runs code in a host's sandbox", async () => {
    const sandbox = await FakeAgent.link(edge, { kinds: ["sandbox.execute"], docker: true });
    try {
      const pending = client.execute({ language: "python", code: "print(1+1)" });
      const job = await sandbox.nextJob("sandbox.execute");
      sandbox.result(job, 0, SANDBOX_RESULT);
      const answer = await pending;
      expect(answer).toMatchObject({ ...SANDBOX_RESULT, execution_id: expect.any(String) });
    } finally {
      sandbox.close();
    }
  });

  it("reads health and metrics", async () => {
    expect((await client.health()).auth).toBe("open");
    expect((await client.metrics()).successful_requests).toBeGreaterThan(0);
  });
});
