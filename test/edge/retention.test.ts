import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * Retention against the real Worker: a finished pipeline, its events, its artifacts and its row in
 * the list are gone once ATOMIC_PIPELINE_RETENTION_HOURS has passed (0.001 h, 3.6 s, here).
 */
let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_PIPELINE_RETENTION_HOURS: "0.001" });
  agent = await FakeAgent.link(edge, { id: "retention-agent" });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

describe("retention", () => {
  it("deletes a finished pipeline's state, events, artifacts and list row when its retention ends", async () => {
    const started = await postJson(`${edge.url}/api/generate`, { prompt: "kept briefly", async: true });
    const id = String(started.body.pipeline_id);
    agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    const done = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const finishedAt = Date.parse(done.body.finished_at);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts/main.py`)).status).toBe(200);
    expect(
      (await getJson(`${edge.url}/api/pipelines`)).body.pipelines.map((p: { pipeline_id: string }) => p.pipeline_id),
    ).toContain(id);

    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.status === 404,
      15_000,
      200,
    );
    // Not before its time.
    expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(3_600);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts/main.py`)).status).toBe(404);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts.tar`)).status).toBe(404);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/events`)).status).toBe(404);
    expect((await getJson(`${edge.url}/api/pipelines`)).body.pipelines).toEqual([]);
  });

  it("refuses a retention below 0.001 hours with a message naming the setting", async () => {
    const bad = await startEdge({ ATOMIC_PIPELINE_RETENTION_HOURS: "0.0001" });
    try {
      const res = await getJson(`${bad.url}/health`);
      expect(res.status).toBe(500);
      expect(res.body.error.message).toContain("ATOMIC_PIPELINE_RETENTION_HOURS must be at least 0.001");
    } finally {
      await bad.dispose();
    }
  });
});
