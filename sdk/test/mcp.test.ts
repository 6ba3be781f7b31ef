import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../shared/src/index.ts";
import { ROOT, startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../../test/support/fake-agent.ts";
import { waitUntil } from "./helpers.ts";

/**
 * The MCP server as an MCP client sees it: `node sdk/src/mcp/main.ts` spawned by the official SDK's
 * stdio client, in front of the real edge in workerd, with a test playing the host-agent.
 */

let edge: EdgeHandle;
let agent: FakeAgent;
let client: Client;
const stderr: string[] = [];
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge, {
    kinds: ["llm.generate", "llm.repair", "sandbox.verify", "sandbox.execute"],
    docker: true,
  });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, "sdk", "src", "mcp", "main.ts")],
    env: { ATOMIC_URL: edge.url, ATOMIC_MCP_MAX_FILE_BYTES: "100", ATOMIC_MCP_MAX_RESULT_BYTES: "150" },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  client = new Client({ name: "atomic-test", version: "1.0.0" });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
  agent?.close();
  await edge?.dispose();
});

const APP = "def add(a, b):\n    return a + b\n";
const TEST = "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n";
const PROGRAM = [`\`\`\`python app.py\n${APP}\`\`\`\n\n`, `\`\`\`python test_app.py\n${TEST}\`\`\`\n`];

const PASSED: VerifyReport = {
  passed: true,
  steps: [{ name: "test", command: "python3 -m pytest", exit_code: 0, timed_out: false, duration_ms: 400, output: "" }],
  tests: { passed: 3, failed: 0, skipped: 0 },
  failures: [],
  report: "junit",
  duration_ms: 450,
  cpu_ms: null,
  peak_memory_bytes: null,
};

async function call(name: string, args: Record<string, unknown>, onprogress?: (p: Progress) => void) {
  return (await client.callTool(
    { name, arguments: args },
    undefined,
    onprogress ? { onprogress } : {},
  )) as CallToolResult;
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

describe("the tools", () => {
  it("are listed with their input and output schemas", async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([
      "cancel_pipeline",
      "execute_code",
      "generate_code",
      "get_pipeline",
      "list_pipelines",
    ]);
    const generate = byName.get("generate_code");
    expect(Object.keys(generate?.inputSchema.properties ?? {}).sort()).toEqual([
      "framework",
      "language",
      "max_repairs",
      "prompt",
      "verify",
    ]);
    expect(generate?.inputSchema.required).toEqual(["prompt"]);
    expect(generate?.outputSchema?.properties).toHaveProperty("files");
    expect(Object.keys(byName.get("execute_code")?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["language", "code", "files", "stdin", "timeout_seconds"]),
    );
    expect(byName.get("get_pipeline")?.inputSchema.required).toEqual(["pipeline_id"]);
    expect(Object.keys(byName.get("list_pipelines")?.inputSchema.properties ?? {}).sort()).toEqual([
      "cursor",
      "limit",
      "state",
    ]);
  });
});

describe("generate_code", () => {
  it("verifies by default, reports progress, and answers the verdict and the files", async () => {
    const progress: Progress[] = [];
    const pending = call(
      "generate_code",
      { prompt: "a python function add(a, b) with tests", language: "python" },
      (p) => progress.push(p),
    );
    const job = await agent.nextJob("llm.generate");
    agent.generate(job, PROGRAM);
    agent.result(await agent.nextJob("sandbox.verify"), 0, PASSED);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    const id = (result.structuredContent as { pipeline_id: string }).pipeline_id;
    expect(result.structuredContent).toMatchObject({
      state: "COMPLETED",
      verified: true,
      verification: { status: "passed", repairs: 0, tests: { passed: 3, failed: 0, skipped: 0 }, failures: [] },
      files: [
        { path: "app.py", language: "python", content: APP },
        { path: "test_app.py", language: "python", content: TEST },
      ],
    });
    expect(result.structuredContent).not.toHaveProperty("files_note");
    expect(text(result)).toContain("verification passed: 3 passed, 0 failed, 0 repair(s)");

    const messages = progress.map((p) => p.message ?? "");
    expect(messages[0]).toContain(`pipeline ${id} queued`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^GENERATING completed \(2 tokens, \d+ characters so far\)$/),
    );
    expect(messages).toContain("verification round 0: passed; 3 passed, 0 failed, 0 skipped");
    expect(messages.at(-1)).toBe("done: COMPLETED, verification passed");
    const values = progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
  });

  it("answers a verification that still fails after its repairs, with the last round's failures", async () => {
    const failed: VerifyReport = {
      ...PASSED,
      passed: false,
      tests: { passed: 2, failed: 1, skipped: 0 },
      failures: [{ name: "test_app.test_add", message: "assert 0 == 3" }],
    };
    const progress: Progress[] = [];
    const pending = call("generate_code", { prompt: "add, repaired once", language: "python", max_repairs: 1 }, (p) =>
      progress.push(p),
    );
    agent.generate(await agent.nextJob("llm.generate"), PROGRAM);
    agent.result(await agent.nextJob("sandbox.verify"), 0, failed);
    agent.generate(await agent.nextJob("llm.repair"), [`\`\`\`python app.py\n${APP}\`\`\`\n`]);
    agent.result(await agent.nextJob("sandbox.verify"), 0, failed);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      state: "COMPLETED",
      verified: false,
      verification: {
        status: "failed",
        repairs: 1,
        max_repairs: 1,
        tests: { passed: 2, failed: 1, skipped: 0 },
        failures: [{ name: "test_app.test_add", message: "assert 0 == 3" }],
      },
    });
    expect(text(result)).toContain("verification failed: 2 passed, 1 failed, 1 repair(s)");
    const messages = progress.map((p) => p.message ?? "");
    expect(messages).toContain("verification round 0: failed; 2 passed, 1 failed, 0 skipped");
    expect(messages).toContainEqual(expect.stringMatching(/^REPAIRING round 1 started/));
    expect(messages).toContain("verification round 1: failed; 2 passed, 1 failed, 0 skipped");
  });

  it("lists a file too large for the result without its content, and says where to get it", async () => {
    const big = `# ${"x".repeat(150)}\nprint(1)\n`;
    const pending = call("generate_code", { prompt: "two files, one big", language: "python", verify: false });
    agent.generate(await agent.nextJob("llm.generate"), [
      `\`\`\`python big.py\n${big}\`\`\`\n\n\`\`\`python app.py\n${APP}\`\`\`\n`,
    ]);
    const result = await pending;
    const out = result.structuredContent as { pipeline_id: string; files: unknown[]; files_note: string };
    expect(out).toMatchObject({ verified: false, verification: null });
    expect(out.files).toEqual([
      expect.objectContaining({ path: "big.py", content: null, omitted: "larger than 100 bytes" }),
      expect.objectContaining({ path: "app.py", content: APP }),
    ]);
    expect(out.files_note).toContain(`/api/pipelines/${out.pipeline_id}/artifacts/`);
  });

  it("answers a failed pipeline as a tool error naming its code", async () => {
    const pending = call("generate_code", { prompt: "this one fails", verify: false });
    agent.fail(await agent.nextJob("llm.generate"), "llm_error", "the model answered nonsense", false);
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/the pipeline failed: llm_error .*the model answered nonsense/);
  });

  it("cancels the pipeline when the client cancels the call", async () => {
    const controller = new AbortController();
    const progress: Progress[] = [];
    const pending = client
      .callTool({ name: "generate_code", arguments: { prompt: "abandoned", verify: false } }, undefined, {
        signal: controller.signal,
        onprogress: (p) => progress.push(p),
      })
      .catch((error: unknown) => error);
    const job = await agent.nextJob("llm.generate");
    await waitUntil(() => progress.length > 0, 5_000, "the first progress notification");
    const id = /pipeline (\S+) queued/.exec(progress[0]?.message ?? "")?.[1] ?? "";
    controller.abort();
    await pending;
    const deadline = Date.now() + 10_000;
    let state = "";
    while (state !== "CANCELLED" && Date.now() < deadline) {
      const view = await call("get_pipeline", { pipeline_id: id });
      state = (view.structuredContent as { state: string }).state;
    }
    expect(state).toBe("CANCELLED");
    agent.fail(job, "cancelled", "cleanup", false);
  });
});

describe("get_pipeline, list_pipelines, cancel_pipeline", () => {
  it("follow and cancel a running pipeline; a second cancel is a tool error", async () => {
    const pending = call("generate_code", { prompt: "to cancel from another call", verify: false });
    const job = await agent.nextJob("llm.generate");
    const list = await call("list_pipelines", { state: ["GENERATING"], limit: 10 });
    expect(list.isError).toBeFalsy();
    const rows = (list.structuredContent as { pipelines: Array<{ pipeline_id: string; prompt: string }> }).pipelines;
    const id = rows.find((row) => row.prompt === "to cancel from another call")?.pipeline_id ?? "";
    expect(id).not.toBe("");

    const view = await call("get_pipeline", { pipeline_id: id });
    expect(view.structuredContent).toMatchObject({ pipeline_id: id, state: "GENERATING", stage: "GENERATING" });
    const cancelled = await call("cancel_pipeline", { pipeline_id: id });
    expect(cancelled.structuredContent).toEqual({ pipeline_id: id, state: "CANCELLED" });
    const ended = await pending;
    expect(ended.isError).toBe(true);
    expect(text(ended)).toContain("cancelled");
    const again = await call("cancel_pipeline", { pipeline_id: id });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/^conflict \(HTTP 409\)/);

    const completed = await call("list_pipelines", { state: "COMPLETED" });
    const states = (completed.structuredContent as { pipelines: Array<{ state: string }> }).pipelines.map(
      (p) => p.state,
    );
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(["COMPLETED"]));
    agent.fail(job, "cancelled", "cleanup", false);
  });
});

describe("execute_code", () => {
  it("runs code in a host's sandbox and answers exit code, stdout, stderr, timed_out", async () => {
    const pending = call("execute_code", { language: "python", code: "print(1+1)", timeout_seconds: 5 });
    const job = await agent.nextJob("sandbox.execute");
    expect(job.payload).toMatchObject({ language: "python", code: "print(1+1)", limits: { timeout_seconds: 5 } });
    agent.result(job, 0, SANDBOX_RESULT);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      exit_code: 0,
      stdout: "2\n",
      stderr: "",
      timed_out: false,
      execution_id: expect.any(String),
    });
  });
});

describe("bad arguments and refusals", () => {
  it("come back as tool errors naming the problem, and the server serves the next call", async () => {
    const missing = await call("execute_code", { language: "python" });
    expect(missing).toMatchObject({ isError: true });
    expect(text(missing)).toContain("give `code` or `files`");

    const language = await call("execute_code", { language: "cobol", code: "x" });
    expect(language.isError).toBe(true);
    expect(text(language)).toContain("language");

    const empty = await call("generate_code", { prompt: "   " });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toContain("prompt");

    const unknown = await call("get_pipeline", { pipeline_id: crypto.randomUUID() });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/^not_found \(HTTP 404\)/);

    const cursor = await call("list_pipelines", { cursor: "not-a-cursor" });
    expect(cursor.isError).toBe(true);
    expect(text(cursor)).toMatch(/^invalid_request \(HTTP 400\)/);

    const list = await call("list_pipelines", { limit: 1 });
    expect(list.isError).toBeFalsy();
    expect((list.structuredContent as { pipelines: unknown[] }).pipelines).toHaveLength(1);
    expect(stderr.join("")).toContain("get_pipeline: not_found");
  });
});

describe("without a host-agent", () => {
  it("generate_code answers no_agent as a tool error that says what to do", async () => {
    agent.close();
    try {
      const result = await call("generate_code", { prompt: "nobody runs this", verify: false });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/no_agent .*start one/);
    } finally {
      agent = await FakeAgent.link(edge, { kinds: ["llm.generate"] });
    }
    expect((await call("list_pipelines", { limit: 1 })).isError).toBeFalsy();
  });
});

describe("atomic mcp", () => {
  it("serves the same tools from the CLI, reading --url, and answers a call", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(ROOT, "sdk", "src", "cli", "main.ts"), "--url", edge.url, "mcp"],
      stderr: "pipe",
    });
    const viaCli = new Client({ name: "atomic-cli-test", version: "1.0.0" });
    await viaCli.connect(transport);
    try {
      const tools = await viaCli.listTools();
      expect(tools.tools.map((tool) => tool.name).sort()).toEqual([
        "cancel_pipeline",
        "execute_code",
        "generate_code",
        "get_pipeline",
        "list_pipelines",
      ]);
      const listed = (await viaCli.callTool({ name: "list_pipelines", arguments: { limit: 1 } })) as CallToolResult;
      expect(listed.isError ?? false).toBe(false);
    } finally {
      await viaCli.close();
    }
  });
});
