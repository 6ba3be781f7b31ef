import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { LINK_VERSION, PoolEvent, type PipelinesChangedEvent, type PoolOverviewEvent } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, HEALTHY } from "../support/fake-agent.ts";
import { getJson, postJson } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

/** A feed whose every message must be a PoolEvent: anything else fails the test where it is read. */
class Feed {
  readonly socket: RecordingSocket;
  constructor(url: string) {
    this.socket = new RecordingSocket(url);
  }
  events(): PoolEvent[] {
    return this.socket.messages.map((message) => PoolEvent.parse(message));
  }
  async overview(predicate: (event: PoolOverviewEvent) => boolean, timeoutMs = 10_000): Promise<PoolOverviewEvent> {
    const found = await this.socket.waitFor(
      (m) => m["type"] === "overview" && predicate(PoolEvent.parse(m) as PoolOverviewEvent),
      timeoutMs,
    );
    return PoolEvent.parse(found) as PoolOverviewEvent;
  }
  /** Every change the feed has named so far for `pipelineId`, in order. */
  changesOf(pipelineId: string): string[] {
    return this.events()
      .filter((event): event is PipelinesChangedEvent => event.type === "pipelines")
      .flatMap((event) =>
        event.changes.filter((c) => c.pipeline_id === pipelineId).map((c) => `${c.change}:${c.state}`),
      );
  }
  /** Waits for a notice of `pipelineId` (of the kind `change` unless it is "any"). */
  async change(pipelineId: string, change: string, timeoutMs = 10_000): Promise<void> {
    await this.socket.waitFor(
      (m) =>
        m["type"] === "pipelines" &&
        (PoolEvent.parse(m) as PipelinesChangedEvent).changes.some(
          (c) => c.pipeline_id === pipelineId && (change === "any" || c.change === change),
        ),
      timeoutMs,
    );
  }
  close(): void {
    this.socket.close();
  }
}

/** The status code of a refused handshake, or "open". */
function handshake(url: string): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", reject);
  });
}

describe("GET /ws/pool on an open edge", () => {
  let edge: EdgeHandle;
  beforeAll(async () => {
    edge = await startEdge();
  });
  afterAll(async () => edge?.dispose());

  it("sends the overview on open, the linked agent with its labels and heartbeat, and a change when it links", async () => {
    const pool = "feed-agents";
    const feed = new Feed(`${edge.wsUrl}/ws/pool?pool=${pool}`);
    await feed.socket.opened();
    const first = await feed.overview(() => true);
    expect(first.status.agents).toEqual([]);
    expect(first.health).toMatchObject({ status: "degraded", agents_connected: 0, auth: "open" });
    expect(first.recent.buckets).toHaveLength(30);
    expect(first.recent.bucket_ms).toBe(10_000);

    const agent = await FakeAgent.link(edge, { id: "feed-agent-1", pool, labels: { gpu: "a100" }, capacity: 3 });
    const linked = await feed.overview((e) => e.status.agents.length === 1);
    expect(linked.status.agents[0]).toMatchObject({
      agent_id: "feed-agent-1",
      connected: true,
      labels: { gpu: "a100" },
      capacity: 3,
      running: 0,
      llm: "healthy",
    });
    const heardAt = Date.parse(linked.status.agents[0]!.last_heartbeat_at!);
    expect(linked.health).toMatchObject({ status: "ok", agents_connected: 1 });

    // A heartbeat moves "last heard" forward; nothing else of the agent changed.
    await new Promise((r) => setTimeout(r, 50));
    agent.socket.send({ v: LINK_VERSION, type: "heartbeat", health: HEALTHY, load: { running: 0 } });
    const heard = await feed.overview((e) => Date.parse(e.status.agents[0]?.last_heartbeat_at ?? "0") > heardAt);
    expect(heard.status.agents[0]?.connected).toBe(true);
    agent.close();
    feed.close();
  });

  it("names each pipeline queued, started and finished, and the overview counts it in the recent window", async () => {
    const pool = "feed-pipelines";
    const agent = await FakeAgent.link(edge, { id: "feed-agent-2", pool, capacity: 1 });
    const feed = new Feed(`${edge.wsUrl}/ws/pool?pool=${pool}`);
    await feed.socket.opened();
    await feed.overview(() => true);

    const start = async (prompt: string) => {
      const res = await postJson(`${edge.url}/api/generate`, { prompt, async: true, metadata: { pool } });
      expect(res.status).toBe(202);
      return String(res.body.pipeline_id);
    };
    const first = await start("feed one");
    await feed.change(first, "started");
    const job = await agent.nextJob();
    const running = await feed.overview((e) => e.status.agents[0]?.running === 1);
    expect(running.metrics.jobs_running).toBe(1);

    agent.generate(job, ["```python main.py\nprint(1)\n```\n"]);
    await feed.change(first, "finished");
    expect(feed.changesOf(first)).toEqual(["started:null", "finished:COMPLETED"]);
    const after = await feed.overview((e) => e.recent.buckets.some((b) => b.completed > 0));
    const slice = after.recent.buckets.find((b) => b.completed > 0)!;
    expect(slice).toMatchObject({ completed: 1, failed: 0 });
    expect(slice.p50_ms).toBeGreaterThan(0);
    expect(after.metrics.successful_requests).toBe(1);
    expect(after.status.agents[0]?.running).toBe(0);
    agent.close();
    feed.close();
  });

  it("coalesces a burst into at most about one overview a second", async () => {
    const pool = "feed-burst";
    const agent = await FakeAgent.link(edge, { id: "feed-agent-3", pool, capacity: 20 });
    const feed = new Feed(`${edge.wsUrl}/ws/pool?pool=${pool}`);
    await feed.socket.opened();
    await feed.overview(() => true);
    const opened = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await postJson(`${edge.url}/api/generate`, { prompt: `burst ${i}`, async: true, metadata: { pool } });
      ids.push(String(res.body.pipeline_id));
    }
    // Ten start (ATOMIC_MAX_CONCURRENT), ten wait in the queue: each is named once either way.
    for (const id of ids) await feed.change(id, "any");
    expect(ids.map((id) => feed.changesOf(id).length)).toEqual(ids.map(() => 1));
    const elapsedS = (Date.now() - opened) / 1000;
    const overviews = feed.events().filter((e) => e.type === "overview").length;
    // The one on open, then at most one per second that passed (and one for the batch in flight).
    expect(overviews).toBeLessThanOrEqual(2 + Math.ceil(elapsedS));
    agent.close();
    feed.close();
  });

  it("refuses a plain request with 426 and a bad pool name with 400", async () => {
    const plain = await getJson(`${edge.url}/ws/pool`);
    expect(plain.status).toBe(426);
    expect(plain.body).toMatchObject({ error: { code: "upgrade_required" } });
    expect(await handshake(`${edge.wsUrl}/ws/pool?pool=${"x".repeat(200)}`)).toBe(400);
  });
});

describe("GET /ws/pool with API keys", () => {
  let edge: EdgeHandle;
  beforeAll(async () => {
    edge = await startEdge({
      ATOMIC_API_KEYS: "feed-key-a,feed-key-b",
      ATOMIC_OPERATOR_KEYS: "feed-key-op",
    });
  });
  afterAll(async () => edge?.dispose());

  it("asks for a key, refuses a wrong one, and tells each key only of its own pipelines (an operator of all)", async () => {
    expect(await handshake(`${edge.wsUrl}/ws/pool`)).toBe(401);
    expect(await handshake(`${edge.wsUrl}/ws/pool?access_token=wrong`)).toBe(401);
    const agent = await FakeAgent.link(edge, { id: "feed-keys-agent", capacity: 4 });
    const feedA = new Feed(`${edge.wsUrl}/ws/pool?access_token=feed-key-a`);
    const feedOp = new Feed(`${edge.wsUrl}/ws/pool?access_token=feed-key-op`);
    await Promise.all([feedA.socket.opened(), feedOp.socket.opened()]);
    await Promise.all([feedA.overview(() => true), feedOp.overview(() => true)]);

    const start = async (key: string) => {
      const res = await postJson(
        `${edge.url}/api/generate`,
        { prompt: `owned by ${key}`, async: true },
        { Authorization: `Bearer ${key}` },
      );
      expect(res.status).toBe(202);
      return String(res.body.pipeline_id);
    };
    const ofA = await start("feed-key-a");
    const ofB = await start("feed-key-b");
    await feedOp.change(ofA, "started");
    await feedOp.change(ofB, "started");
    await feedA.change(ofA, "started");
    // A later pipeline of A's: once A's feed has its notice, it would hold B's too had it been sent.
    const laterOfA = await start("feed-key-a");
    await feedA.change(laterOfA, "started");
    expect(feedA.changesOf(ofB)).toEqual([]);
    expect(feedA.changesOf(ofA)).toEqual(["started:null"]);
    const overview = await feedA.overview(() => true);
    expect(overview.health.auth).toBe("api_keys");
    agent.close();
    feedA.close();
    feedOp.close();
  });
});
