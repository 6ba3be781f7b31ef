import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, type Assignment } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * Issue 15, item 3: one API key that floods the queue cannot delay another key's pipelines behind
 * all of its own (keys take turns within a priority), and ATOMIC_MAX_RUNNING_PER_KEY caps what
 * one key runs at once. `GET /api/status` counts each key's pipelines by its id, never the key.
 */
const FLOOD = "flood-key-0123456789";
const SMALL = "small-key-9876543210";
const CODE = ["```python main.py\nprint(1)\n```\n"];
const as = (key: string) => ({ Authorization: `Bearer ${key}` });
/** The owner id the API names a key by (edge/src/api/client-auth.ts). */
const ownerOf = (key: string) => createHash("sha256").update(`atomic-api-key:${key}`).digest("hex").slice(0, 32);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function edgeWith(vars: Record<string, string>): Promise<{ edge: EdgeHandle; agent: FakeAgent }> {
  const edge = await startEdge({
    ATOMIC_API_KEYS: `${FLOOD},${SMALL}`,
    ATOMIC_AGENT_WAIT_MS: "30000",
    ATOMIC_LOG_LEVEL: "ERROR",
    ...vars,
  });
  cleanups.push(() => edge.dispose());
  const agent = await FakeAgent.link(edge, { id: "fair-agent", capacity: 8 });
  cleanups.push(() => agent.close());
  return { edge, agent };
}

async function submit(edge: EdgeHandle, key: string, prompt: string): Promise<string> {
  const res = await postJson(`${edge.url}/api/generate`, { prompt, async: true }, as(key));
  expect(res.status).toBe(202);
  return res.body.pipeline_id as string;
}

const promptOf = (job: Assignment) => String(job.payload["prompt"]);
type Tenant = { owner: string | null; running: number; queued: number };
const tenantsOf = async (edge: EdgeHandle): Promise<Tenant[]> =>
  (await getJson(`${edge.url}/api/status`, as(SMALL))).body.tenants as Tenant[];

describe("fair tenants", () => {
  it("a key that queued 30 pipelines delays another key's 2 by at most one turn each", async () => {
    const { edge, agent } = await edgeWith({ ATOMIC_MAX_CONCURRENT: "2" });
    for (let i = 0; i < 30; i++) await submit(edge, FLOOD, `flood-${i}`);
    for (let i = 0; i < 2; i++) await submit(edge, SMALL, `small-${i}`);

    const status = await getJson(`${edge.url}/api/status`, as(FLOOD));
    expect(status.body).toMatchObject({ active_pipelines: 2, queue_size: 30 });
    expect(status.body.tenants).toEqual(
      expect.arrayContaining([
        { owner: ownerOf(FLOOD), running: 2, queued: 28 },
        { owner: ownerOf(SMALL), running: 0, queued: 2 },
      ]),
    );
    expect(status.body.tenants).toHaveLength(2);
    expect(JSON.stringify(status.body)).not.toContain(FLOOD);

    // The two running flood pipelines hold both slots; end them one at a time, oldest first, and
    // note whose pipeline each freed slot goes to.
    const running = [await agent.nextJob(), await agent.nextJob()];
    expect(running.map(promptOf)).toEqual(["flood-0", "flood-1"]);
    const started: string[] = [];
    while (started.filter((p) => p.startsWith("small-")).length < 2) {
      const done = running.shift()!;
      agent.generate(done, CODE);
      const next = await agent.nextJob();
      started.push(promptOf(next));
      running.push(next);
    }
    // The bound: both small-key pipelines start within the next 4 slots freed (round-robin gives
    // them every other one), so the flooder starts at most 2 of its 28 waiting before they do;
    // first come first served would have started all 28 first.
    console.log(`[fair] slots went to: ${started.join(", ")}`);
    expect(started.length).toBeLessThanOrEqual(4);
    expect(started.filter((p) => p.startsWith("flood-")).length).toBeLessThanOrEqual(2);
    // Each key's own pipelines keep their order.
    expect(started.filter((p) => p.startsWith("small-"))).toEqual(["small-0", "small-1"]);
    const floods = started.filter((p) => p.startsWith("flood-"));
    expect(floods).toEqual(floods.map((_, i) => `flood-${i + 2}`));
  }, 60_000);

  it("ATOMIC_MAX_RUNNING_PER_KEY caps each key's running pipelines, leaving slots for other keys", async () => {
    const { edge, agent } = await edgeWith({ ATOMIC_MAX_CONCURRENT: "3", ATOMIC_MAX_RUNNING_PER_KEY: "1" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await submit(edge, FLOOD, `flood-${i}`));
    // One flood pipeline runs; the other 4 wait although two slots are free.
    const first = await agent.nextJob();
    expect(promptOf(first)).toBe("flood-0");
    let status = await getJson(`${edge.url}/api/status`, as(FLOOD));
    expect(status.body).toMatchObject({ active_pipelines: 1, queue_size: 4 });
    expect(status.body.tenants).toEqual([{ owner: ownerOf(FLOOD), running: 1, queued: 4 }]);

    // The other key starts at once, up to its own cap.
    for (let i = 0; i < 2; i++) ids.push(await submit(edge, SMALL, `small-${i}`));
    const second = await agent.nextJob();
    expect(promptOf(second)).toBe("small-0");
    status = await getJson(`${edge.url}/api/status`, as(SMALL));
    expect(status.body).toMatchObject({ active_pipelines: 2, queue_size: 5 });
    expect(status.body.tenants).toEqual(
      expect.arrayContaining([
        { owner: ownerOf(FLOOD), running: 1, queued: 4 },
        { owner: ownerOf(SMALL), running: 1, queued: 1 },
      ]),
    );

    // Run everything to the end, checking the cap whenever a pipeline ended and others started.
    const keyOf = (id: string) => (ids.indexOf(id) >= 5 ? SMALL : FLOOD);
    const running = [first, second];
    while (running.length > 0) {
      const done = running.shift()!;
      const id = String(done.pipeline_id);
      agent.generate(done, CODE);
      await until(
        () => getJson(`${edge.url}/api/pipelines/${id}`, as(keyOf(id))),
        (r) => r.body.state === "COMPLETED",
      );
      status = await getJson(`${edge.url}/api/status`, as(FLOOD));
      for (const tenant of status.body.tenants as Tenant[]) expect(tenant.running).toBeLessThanOrEqual(1);
      while (running.length < status.body.active_pipelines) running.push(await agent.nextJob());
    }
    for (const id of ids)
      expect((await getJson(`${edge.url}/api/pipelines/${id}`, as(keyOf(id)))).body.state).toBe("COMPLETED");
    expect(await tenantsOf(edge)).toEqual([]);
  }, 60_000);

  it("keeps each key's queue, and whose turn it is, across a restart of the edge", async () => {
    const state = mkdtempSync(join(tmpdir(), "atomic-edge-fair-"));
    cleanups.push(() => rmSync(state, { recursive: true, force: true }));
    const port = await freePort();
    const vars = {
      ATOMIC_API_KEYS: `${FLOOD},${SMALL}`,
      ATOMIC_AGENT_TOKEN: "fair-token",
      ATOMIC_MAX_CONCURRENT: "1",
      ATOMIC_AGENT_WAIT_MS: "30000",
      ATOMIC_LOG_LEVEL: "ERROR",
    };
    let edge = await startEdge(vars, state, port);
    let agent = await FakeAgent.link(edge, { id: "fair-restart", capacity: 1 });
    for (let i = 0; i < 4; i++) await submit(edge, FLOOD, `flood-${i}`);
    for (let i = 0; i < 3; i++) await submit(edge, SMALL, `small-${i}`);
    const first = await agent.nextJob();
    expect(promptOf(first)).toBe("flood-0");
    agent.generate(first, CODE);
    const second = await agent.nextJob();
    expect(promptOf(second)).toBe("small-0");
    agent.generate(second, CODE);
    // flood-1 runs (the flood key's turn was last) when the edge stops, the rest persisted.
    const third = await agent.nextJob();
    expect(promptOf(third)).toBe("flood-1");
    const before = await tenantsOf(edge);
    expect(before).toEqual(
      expect.arrayContaining([
        { owner: ownerOf(FLOOD), running: 1, queued: 2 },
        { owner: ownerOf(SMALL), running: 0, queued: 2 },
      ]),
    );
    agent.close();
    await edge.dispose();

    edge = await startEdge(vars, state, port);
    const restarted = edge;
    cleanups.push(() => restarted.dispose());
    expect(await tenantsOf(edge)).toEqual(before);
    // The agent relinks still holding flood-1 and finishes it; then the turns go on where they
    // were: the small key's (the flood key had the last), then alternating.
    agent = await FakeAgent.link(edge, { id: "fair-restart", capacity: 1, running: [third] });
    cleanups.push(() => agent.close());
    agent.generate(third, CODE);
    const rest: string[] = [];
    for (let i = 0; i < 4; i++) {
      const job = await agent.nextJob();
      rest.push(promptOf(job));
      agent.generate(job, CODE);
    }
    expect(rest).toEqual(["small-1", "flood-2", "small-2", "flood-3"]);
    await until(
      () => tenantsOf(edge),
      (tenants) => tenants.length === 0,
    );
  }, 60_000);

  it("refuses a bad ATOMIC_MAX_RUNNING_PER_KEY with a message naming it", async () => {
    const edge = await startEdge({ ATOMIC_MAX_RUNNING_PER_KEY: "-1" });
    cleanups.push(() => edge.dispose());
    const res = await getJson(`${edge.url}/api/status`);
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toContain("ATOMIC_MAX_RUNNING_PER_KEY must be at least 0");
  });
});
