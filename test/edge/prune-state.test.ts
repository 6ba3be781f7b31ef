import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pruneEmptyDatabases } from "../../scripts/prune-empty-databases.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * What `npm start` does to the edge's state before wrangler starts (scripts/run-edge.ts): the
 * one-page files workerd leaves for objects that deleted all their storage are removed, and an
 * edge started again on the pruned state serves as before.
 */
const PIPELINES = 4;
const stateDir = mkdtempSync(join(tmpdir(), "atomic-prune-edge-"));
const pipelineObjects = () =>
  readdirSync(join(stateDir, "v3", "do", "atomic-orchestrator-PipelineDO")).filter((name) =>
    /^[0-9a-f]{64}\.sqlite$/.test(name),
  );
let edge: EdgeHandle | undefined;
let agent: FakeAgent | undefined;
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
  rmSync(stateDir, { recursive: true, force: true });
});

async function completePipeline(running: EdgeHandle, link: FakeAgent, prompt: string): Promise<string> {
  const started = await postJson(`${running.url}/api/generate`, { prompt, async: true });
  const id = String(started.body.pipeline_id);
  link.generate(await link.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
  await until(
    () => getJson(`${running.url}/api/pipelines/${id}`),
    (r) => r.body.state === "COMPLETED",
  );
  return id;
}

describe("pruning the state of deleted objects", () => {
  it("removes each purged pipeline's empty database, and the edge serves on the pruned state", async () => {
    const vars = { ATOMIC_PIPELINE_RETENTION_HOURS: "0.001", ATOMIC_AGENT_TOKEN: "prune-token" };
    edge = await startEdge(vars, stateDir);
    agent = await FakeAgent.link(edge, { id: "prune-agent" });
    const ids: string[] = [];
    for (let i = 0; i < PIPELINES; i++) ids.push(await completePipeline(edge, agent, `pruned ${i}`));
    for (const id of ids) {
      await until(
        () => getJson(`${edge!.url}/api/pipelines/${id}`),
        (r) => r.status === 404,
        20_000,
        200,
      );
    }
    agent.close();
    agent = undefined;
    await edge.dispose();
    edge = undefined;
    // Every purged pipeline left its file; the lookups of purged ids above may have left more.
    expect(pipelineObjects().length).toBeGreaterThanOrEqual(PIPELINES);

    const pruned = pruneEmptyDatabases(stateDir);
    expect(pruned.removed).toBeGreaterThanOrEqual(PIPELINES);
    expect(pruned.removedBytes).toBe(pruned.removed * 4096);
    expect(pipelineObjects()).toEqual([]);
    // Nothing is left to prune, and nothing else was taken: the scheduler's state is still there.
    expect(pruneEmptyDatabases(stateDir).removed).toBe(0);
    expect(readdirSync(join(stateDir, "v3", "do", "atomic-orchestrator-SchedulerDO")).length).toBeGreaterThan(0);

    edge = await startEdge(vars, stateDir);
    agent = await FakeAgent.link(edge, { id: "prune-agent" });
    for (const id of ids) expect((await getJson(`${edge.url}/api/pipelines/${id}`)).status).toBe(404);
    const next = await completePipeline(edge, agent, "after the prune");
    expect((await fetch(`${edge.url}/api/pipelines/${next}/artifacts/main.py`)).status).toBe(200);
    const listed = (await getJson(`${edge.url}/api/pipelines`)).body.pipelines.map(
      (p: { pipeline_id: string }) => p.pipeline_id,
    );
    expect(listed).toEqual([next]);
  }, 120_000);
});
