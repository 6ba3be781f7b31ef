import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PoolFeed, type FeedStatus } from "./pool-feed.ts";

/** Just enough of a browser WebSocket: the test opens, feeds and closes it. */
class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readonly url: string;
  readonly readyState = FakeSocket.OPEN;
  readonly sent: string[] = [];
  readonly #listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();
  closedWith: number | null = null;

  constructor(url: string) {
    this.url = url;
    FakeSocket.all.push(this);
  }

  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code: number): void {
    this.closedWith = code;
  }

  emit(type: string, data?: unknown): void {
    for (const listener of this.#listeners.get(type) ?? []) listener({ data });
  }
}

const overview = {
  type: "overview",
  at: "2026-12-01T00:00:00Z",
  health: {
    status: "ok",
    llm_agent: "healthy",
    llm_provider: "offline",
    docker: "available",
    uptime_ms: 1,
    agents_connected: 0,
    auth: "open",
    version: "0.1.0",
    sandbox_runtimes: [],
  },
  status: {
    running: true,
    active_pipelines: 0,
    queue_size: 0,
    max_concurrent: 10,
    max_queue_size: 1000,
    queue_by_priority: { high: 0, normal: 0, low: 0 },
    tenants: [],
    agents: [],
  },
  metrics: {
    total_requests: 0,
    successful_requests: 0,
    failed_requests: 0,
    cancelled_requests: 0,
    rejected_requests: 0,
    average_latency_ms: 0,
    p50_latency_ms: null,
    p99_latency_ms: null,
    active_pipelines: 0,
    queue_size: 0,
    agents_connected: 0,
    jobs_running: 0,
    jobs_waiting: 0,
    executions: {
      ok: 0,
      failed: 0,
      timed_out: 0,
      cancelled: 0,
      failed_by_code: {},
      average_duration_ms: 0,
      p50_duration_ms: null,
      p99_duration_ms: null,
    },
    verification: {
      verified: 0,
      failed: 0,
      skipped: 0,
      repairs_used: 0,
      by_repairs: { passed: {}, failed: {}, skipped: {} },
    },
  },
  recent: { bucket_ms: 10_000, buckets: [] },
};

describe("PoolFeed", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  function start(apiKey: string | null) {
    const statuses: FeedStatus[] = [];
    const overviews: unknown[] = [];
    const changes: unknown[] = [];
    const feed = new PoolFeed({
      origin: "https://edge.example",
      pool: "default",
      apiKey,
      handlers: {
        status: (status) => statuses.push(status),
        overview: (event) => overviews.push(event),
        pipelines: (event) => changes.push(event),
      },
    });
    feed.start();
    return { feed, statuses, overviews, changes };
  }

  it("dials the pool's socket, with the key as access_token", () => {
    start("k 1");
    expect(FakeSocket.all[0]?.url).toBe("wss://edge.example/ws/pool?pool=default&access_token=k+1");
  });

  it("hands on the events that parse and skips the rest", () => {
    const { statuses, overviews, changes } = start(null);
    const socket = FakeSocket.all[0]!;
    socket.emit("message", "not json");
    socket.emit("message", JSON.stringify({ type: "unknown" }));
    expect(statuses).toEqual(["connecting"]);
    socket.emit("message", JSON.stringify(overview));
    socket.emit("message", JSON.stringify({ type: "pipelines", changes: [], more: true }));
    expect(statuses.at(-1)).toBe("live");
    expect(overviews).toHaveLength(1);
    expect(changes).toEqual([{ type: "pipelines", changes: [], more: true }]);
  });

  it("pings an idle socket every 30 s and takes one that stays silent for 65 s for dead", () => {
    start(null);
    const socket = FakeSocket.all[0]!;
    vi.advanceTimersByTime(30_000);
    expect(socket.sent).toEqual(['{"type":"ping"}']);
    socket.emit("message", '{"type":"pong"}');
    vi.advanceTimersByTime(60_000);
    expect(socket.sent).toHaveLength(3);
    expect(socket.closedWith).toBeNull();
    // Nothing heard since the pong 60 s ago: the next tick, past 65 s, gives up on it.
    vi.advanceTimersByTime(30_000);
    expect(socket.closedWith).toBe(4000);
  });

  it("redials with growing waits after drops, and stops for good", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const { feed, statuses } = start(null);
    FakeSocket.all[0]!.emit("close");
    expect(statuses.at(-1)).toBe("reconnecting");
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.emit("close");
    vi.advanceTimersByTime(1999);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    feed.stop();
    expect(FakeSocket.all[2]!.closedWith).toBe(1000);
    FakeSocket.all[2]!.emit("close");
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(3);
  });
});
