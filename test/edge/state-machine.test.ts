import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
const CODE = ["```python main.py\nprint(1)\n```\n"];

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_STAGE_TIMEOUT_MS: "1500", ATOMIC_STAGE_RETRIES: "1", ATOMIC_AGENT_WAIT_MS: "5000" });
  agent = await FakeAgent.link(edge, { capacity: 20, kinds: ["llm.parse", "llm.generate", "export"] });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

async function events(id: string) {
  return parseSse(await (await fetch(`${edge.url}/api/pipelines/${id}/events`)).text());
}

function stageTrail(list: Awaited<ReturnType<typeof events>>): string[] {
  return list.filter((e) => e.event === "stage").map((e) => `${e.data.stage}:${e.data.status}:${e.data.attempt}`);
}

describe("the pipeline state machine", () => {
  it("passes QUEUED → PARSING (agent) → GENERATING → PACKAGING → EXPORTING → COMPLETED", async () => {
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "Build a CLI in TypeScript",
      metadata: { export: { type: "filesystem", path: "out" } },
      async: true,
    });
    const id = res.body.pipeline_id;
    const parse = await agent.nextJob("llm.parse");
    expect((await getJson(`${edge.url}/api/pipelines/${id}`)).body.state).toBe("PARSING");
    agent.result(parse, 0, { language: "typescript", framework: null, entry_file: "cli.ts", summary: "a CLI" });
    const gen = await agent.nextJob("llm.generate");
    expect(gen.payload["requirements"]).toMatchObject({
      language: "typescript",
      entry_file: "cli.ts",
      source: "agent",
    });
    expect((await getJson(`${edge.url}/api/pipelines/${id}`)).body.state).toBe("GENERATING");
    agent.generate(gen, ["```ts\n", "console.log(1)\n", "```\n"]);
    const exp = await agent.nextJob("export");
    expect(exp.payload).toMatchObject({
      pipeline_id: id,
      target: { type: "filesystem", path: "out" },
      files: [expect.objectContaining({ path: "cli.ts", url: `/api/pipelines/${id}/artifacts/cli.ts` })],
    });
    expect((await getJson(`${edge.url}/api/pipelines/${id}`)).body.state).toBe("EXPORTING");
    agent.result(exp, 0, { type: "filesystem", path: `/exports/${id}/out`, files: 1 });
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(view.body.export).toMatchObject({ type: "filesystem", files: 1 });
    expect(stageTrail(await events(id))).toEqual([
      "PARSING:started:1",
      "PARSING:completed:1",
      "GENERATING:started:1",
      "GENERATING:completed:1",
      "PACKAGING:started:1",
      "PACKAGING:completed:1",
      "EXPORTING:started:1",
      "EXPORTING:completed:1",
    ]);
  });

  it("gives each job's slot back: once its pipelines end, the agent runs nothing", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "Hello World in Python", async: true });
    const parse = await agent.nextJob("llm.parse");
    const running = async () =>
      (await getJson(`${edge.url}/api/status`)).body.agents.find((a: any) => a.agent_id === agent.id)?.running;
    expect(await running()).toBe(1);
    agent.result(parse, 0, { language: "python", framework: null, entry_file: "main.py", summary: "hello" });
    const gen = await agent.nextJob("llm.generate");
    expect(await running()).toBe(1);
    agent.generate(gen, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    await until(running, (n) => n === 0);
    expect(await running()).toBe(0);
  });

  it("falls back to the rules when llm.parse fails", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "an express server in javascript", async: true });
    agent.fail(await agent.nextJob("llm.parse"), "llm_error", "model refused", false);
    const gen = await agent.nextJob("llm.generate");
    expect(gen.payload["requirements"]).toMatchObject({
      language: "javascript",
      framework: "express",
      source: "rules",
    });
    agent.generate(gen, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
  });

  it("retries a retryable failure with attempt + 1, then completes", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "retry me", async: true });
    agent.fail(await agent.nextJob("llm.parse"), "llm_unavailable", "x", true);
    const first = await agent.nextJob("llm.generate");
    agent.token(first, 1, "partial ");
    agent.fail(first, "llm_unavailable", "model server restarting", true);
    const second = await agent.nextJob("llm.generate");
    expect(second.job_id).toBe(first.job_id);
    expect(second.attempt).toBe(first.attempt + 1);
    agent.generate(second, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const list = await events(res.body.pipeline_id);
    expect(stageTrail(list)).toContain("GENERATING:retrying:1");
    expect(stageTrail(list)).toContain("GENERATING:started:2");
    expect(list.at(-1)!.data.content).toBe(CODE.join(""));
  });

  it("fails at once on a failure that is not retryable", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "fail me", async: true });
    agent.fail(await agent.nextJob("llm.parse"), "llm_error", "x", false);
    agent.fail(await agent.nextJob("llm.generate"), "llm_error", "bad API key", false);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
    );
    expect(view.body.error).toEqual({ code: "llm_error", message: "bad API key" });
    const list = await events(res.body.pipeline_id);
    expect(list.at(-1)).toMatchObject({ event: "pipeline_error", data: { code: "llm_error", error: "bad API key" } });
  });

  it("gives up after the retries are spent and answers the sync request with the error's status", async () => {
    const pending = postJson(`${edge.url}/api/generate`, { prompt: "always failing" });
    agent.fail(await agent.nextJob("llm.parse"), "llm_error", "x", false);
    agent.fail(await agent.nextJob("llm.generate"), "llm_unavailable", "down", true);
    agent.fail(await agent.nextJob("llm.generate"), "llm_unavailable", "still down", true);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({ code: "llm_unavailable", message: "still down" });
    expect(res.body.state).toBe("FAILED");
  });

  it("enforces the stage deadline: the job is cancelled, retried, then the pipeline times out", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "too slow", async: true });
    agent.fail(await agent.nextJob("llm.parse"), "llm_error", "x", false);
    const first = await agent.nextJob("llm.generate");
    await agent.socket.waitFor(
      (m) => m["type"] === "job.cancel" && m["job_id"] === first.job_id && m["attempt"] === first.attempt,
      5000,
    );
    const second = await agent.nextJob("llm.generate", 5000);
    expect(second.attempt).toBe(first.attempt + 1);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
      8000,
    );
    expect(view.body.error.code).toBe("timeout");
    // A result that arrives after the deadline changes nothing.
    agent.generate(second, CODE);
    await agent.resultAcked(second);
    expect((await getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`)).body.state).toBe("FAILED");
  });

  it("refuses a torn stream: a result whose length differs from what arrived is retried", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "torn", async: true });
    agent.fail(await agent.nextJob("llm.parse"), "llm_error", "x", false);
    const first = await agent.nextJob("llm.generate");
    agent.token(first, 1, "abc");
    agent.result(first, 1, { chars: 10, finish_reason: "stop", provider: "test" });
    const second = await agent.nextJob("llm.generate");
    agent.generate(second, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
  });
});
