import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineList } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, type Assignment } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "20000", ATOMIC_MAX_CONCURRENT: "50" });
  agent = await FakeAgent.link(edge, { id: "list-agent", capacity: 50 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

async function list(query: string) {
  const res = await getJson(`${edge.url}/api/pipelines${query}`);
  return { status: res.status, body: res.status === 200 ? PipelineList.parse(res.body) : res.body };
}

async function start(prompt: string, pool = "default"): Promise<string> {
  const res = await postJson(`${edge.url}/api/generate`, { prompt, async: true, metadata: { pool } });
  expect(res.status).toBe(202);
  return res.body.pipeline_id;
}

describe("GET /api/pipelines", () => {
  it("lists a pool's pipelines newest first, with each row consistent with GET /api/pipelines/:id", async () => {
    const pool = "list-rows";
    const poolAgent = await FakeAgent.link(edge, { id: "list-rows-agent", pool });
    const done = await start("first line of the prompt\nsecond line", pool);
    poolAgent.generate(await poolAgent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${done}`),
      (r) => r.body.state === "COMPLETED",
    );
    const running = await start("still running", pool);
    await poolAgent.nextJob();
    const page = await list(`?pool=${pool}`);
    expect(page.status).toBe(200);
    const rows = (page.body as PipelineList).pipelines;
    expect(rows.map((r) => r.pipeline_id)).toEqual([running, done]);
    const view = (await getJson(`${edge.url}/api/pipelines/${done}`)).body;
    expect(rows[1]).toEqual({
      pipeline_id: done,
      state: "COMPLETED",
      stage: null,
      priority: "normal",
      pool,
      created_at: view.created_at,
      finished_at: view.finished_at,
      duration_ms: view.processing_time_ms,
      prompt: "first line of the prompt",
      verified: false,
      verification: null,
    });
    expect(rows[0]).toMatchObject({ state: "GENERATING", stage: "GENERATING", finished_at: null, duration_ms: null });
    expect((await list(`?pool=${pool}&state=COMPLETED`)).body).toMatchObject({ pipelines: [{ pipeline_id: done }] });
    expect((await list(`?pool=${pool}&state=GENERATING`)).body).toMatchObject({
      pipelines: [{ pipeline_id: running }],
    });
    expect((await list(`?pool=${pool}&state=FAILED`)).body).toEqual({ pipelines: [], next_cursor: null });
    poolAgent.close();
  });

  it("pages without duplicates or gaps while pipelines finish during the walk", async () => {
    const pool = "list-paging";
    const poolAgent = await FakeAgent.link(edge, { id: "list-paging-agent", pool, capacity: 20 });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await start(`paging ${i}`, pool));
    const jobs: Assignment[] = [];
    for (let i = 0; i < 7; i++) jobs.push(await poolAgent.nextJob());
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?pool=${pool}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      const body = page.body as PipelineList;
      seen.push(...body.pipelines.map((row) => row.pipeline_id));
      cursor = body.next_cursor;
      // Between pages, some pipelines end: the walk must not notice.
      const job = jobs.shift();
      if (job) poolAgent.generate(job, ["x"]);
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(4);
    expect(seen).toEqual([...ids].reverse());
    // A time window: nothing created before the first or at/after the last bound.
    const all = (await list(`?pool=${pool}&limit=100`)).body as PipelineList;
    const times = all.pipelines.map((row) => row.created_at);
    const since = times[3]!;
    const windowed = (await list(`?pool=${pool}&since=${encodeURIComponent(since)}`)).body as PipelineList;
    expect(windowed.pipelines.every((row) => row.created_at >= since)).toBe(true);
    expect(windowed.pipelines.length).toBeGreaterThanOrEqual(4);
    const until_ = (await list(`?pool=${pool}&until=${encodeURIComponent(times[0]!)}`)).body as PipelineList;
    expect(until_.pipelines.every((row) => row.created_at < times[0]!)).toBe(true);
    poolAgent.close();
  });

  it("answers 400 naming a bad cursor, limit, state, time or parameter", async () => {
    const cases: Array<[string, string]> = [
      ["?cursor=not-a-cursor!", "cursor"],
      ["?cursor=eyJ0IjoieCJ9", "cursor"],
      ["?limit=0", "limit must be at least 1"],
      ["?limit=101", "limit may be at most 100"],
      ["?limit=2.5", "limit must be a whole number"],
      ["?limit=lots", "limit"],
      ["?state=DONE", "state"],
      ["?since=yesterday", "since"],
      ["?pool=Not_A_Pool", "pool"],
      ["?sort=asc", "sort"],
    ];
    for (const [query, message] of cases) {
      const res = await getJson(`${edge.url}/api/pipelines${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message, query).toContain(message);
    }
  });
});
