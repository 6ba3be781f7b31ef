import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent } from "../../test/support/fake-agent.ts";
import { AtomicClient, type PipelineSummary } from "../src/index.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
let client: AtomicClient;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "5000", ATOMIC_MAX_CONCURRENT: "20" });
  agent = await FakeAgent.link(edge, { capacity: 20 });
  client = new AtomicClient({ baseUrl: edge.url });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const CODE = ["```python main.py\nprint(1)\n```\n"];

describe("pipelines.list and listAll", () => {
  it("pages through every pipeline, newest first, each once; filters by state", async () => {
    const done: string[] = [];
    for (let i = 0; i < 5; i++) {
      const pending = client.generate({ prompt: `finished ${i}` });
      agent.generate(await agent.nextJob(), CODE);
      done.push((await pending).pipeline_id);
    }
    const running = client.generate({ prompt: "still running", async: true }).catch((e: unknown) => e);
    const job = await agent.nextJob();

    const first = await client.pipelines.list({ limit: 2 });
    expect(first.pipelines).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();

    const all: PipelineSummary[] = [];
    for await (const summary of client.pipelines.listAll({ limit: 2 })) all.push(summary);
    expect(all).toHaveLength(6);
    expect(new Set(all.map((s) => s.pipeline_id)).size).toBe(6);
    expect(all[0]).toMatchObject({ prompt: "still running", state: "GENERATING" });
    expect(all.slice(1).map((s) => s.pipeline_id)).toEqual([...done].reverse());

    const completed: PipelineSummary[] = [];
    for await (const summary of client.pipelines.listAll({
      state: "COMPLETED",
      since: new Date(Date.now() - 3_600_000),
    }))
      completed.push(summary);
    expect(completed.map((s) => s.pipeline_id).sort()).toEqual([...done].sort());
    const either = await client.pipelines.list({ state: ["GENERATING", "COMPLETED"] });
    expect(either.pipelines).toHaveLength(6);

    const error = await client.pipelines.list({ limit: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AtomicApiError", status: 400, code: "invalid_request" });
    agent.generate(job, CODE);
    await running;
  });
});
