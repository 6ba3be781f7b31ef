import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent } from "../../test/support/fake-agent.ts";
import { AtomicApiError, AtomicClient, type FetchLike } from "../src/index.ts";
import { collect } from "./helpers.ts";

const KEY = "sdk-test-key-a";
const BUSY_KEY = "sdk-test-key-b";
const PER_MIN = 60;

let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({
    ATOMIC_MAX_CONCURRENT: "1",
    ATOMIC_MAX_QUEUE_SIZE: "1",
    ATOMIC_AGENT_WAIT_MS: "10000",
    ATOMIC_API_KEYS: `${KEY},${BUSY_KEY}`,
    ATOMIC_RATE_LIMIT_PER_MIN: String(PER_MIN),
  });
  agent = await FakeAgent.link(edge, { capacity: 1 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const CODE = ["```python main.py\nprint(1)\n```\n"];

/** A fetch that records each answer's status, Retry-After and when it came. */
function recordingFetch(): {
  fetch: FetchLike;
  seen: Array<{ status: number; retryAfter: string | null; at: number }>;
} {
  const seen: Array<{ status: number; retryAfter: string | null; at: number }> = [];
  return {
    seen,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      seen.push({ status: response.status, retryAfter: response.headers.get("retry-after"), at: Date.now() });
      return response;
    },
  };
}

async function startAsync(prompt: string): Promise<string> {
  const response = await fetch(`${edge.url}/api/generate`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ prompt, async: true }),
  });
  expect(response.status).toBe(202);
  const body = (await response.json()) as { pipeline_id: string };
  return body.pipeline_id;
}

describe("retries", () => {
  it("a full queue (429 queue_full): generate waits Retry-After, sends again, and succeeds", async () => {
    await startAsync("holds the only slot");
    const running = await agent.nextJob();
    await startAsync("fills the queue");

    const refused = await new AtomicClient({ baseUrl: edge.url, apiKey: KEY, retries: 0 })
      .generate({ prompt: "one too many", async: true })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AtomicApiError);
    expect(refused).toMatchObject({ status: 429, code: "queue_full" });
    expect((refused as AtomicApiError).retryAfterMs).toBeGreaterThanOrEqual(1000);

    const { fetch, seen } = recordingFetch();
    const client = new AtomicClient({ baseUrl: edge.url, apiKey: KEY, fetch });
    const pending = client.generate({ prompt: "waits its turn", async: true });
    // The slot frees a little after the refusal; the retry comes only after Retry-After.
    await new Promise((resolve) => setTimeout(resolve, 200));
    agent.generate(running, CODE);
    agent.generate(await agent.nextJob(), CODE);
    const third = await agent.nextJob();
    expect(third.payload["prompt"]).toBe("waits its turn");
    agent.generate(third, CODE);
    const result = await pending;
    expect(result.content).toBe(CODE.join(""));
    const [first, second] = seen;
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(202);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(Number(first?.retryAfter) * 1000 - 50);
  });

  it("a rate limit (429 rate_limited): waits Retry-After and sends again; with no retries left, throws it", async () => {
    const headers = { Authorization: `Bearer ${BUSY_KEY}` };
    for (let i = 0; i < PER_MIN; i++) await (await fetch(`${edge.url}/api/metrics`, { headers })).arrayBuffer();
    const none = await new AtomicClient({ baseUrl: edge.url, apiKey: BUSY_KEY, retries: 0 })
      .metrics()
      .catch((e: unknown) => e);
    expect(none).toMatchObject({ name: "AtomicApiError", status: 429, code: "rate_limited" });

    const { fetch: recording, seen } = recordingFetch();
    const client = new AtomicClient({ baseUrl: edge.url, apiKey: BUSY_KEY, fetch: recording });
    expect((await client.metrics()).total_requests).toBeGreaterThan(0);
    expect(seen.map((s) => s.status)).toEqual([429, 200]);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(Number(seen[0]?.retryAfter) * 1000 - 50);
  });
});

describe("keys", () => {
  it("sends the key as a Bearer header and, on WebSockets, as access_token", async () => {
    const client = new AtomicClient({ baseUrl: edge.url, apiKey: KEY });
    const events = collect(client.stream({ prompt: "with a key" }));
    agent.generate(await agent.nextJob(), CODE);
    const all = await events;
    expect(all.at(-1)?.type).toBe("result");
    const id = all[0]?.pipeline_id ?? "";
    expect((await client.pipelines.get(id)).state).toBe("COMPLETED");
  });

  it("a wrong key is a typed 401, over HTTP and over WebSocket", async () => {
    const client = new AtomicClient({ baseUrl: edge.url, apiKey: "not-a-key" });
    expect(await client.metrics().catch((e: unknown) => e)).toMatchObject({ status: 401, code: "unauthorized" });
    expect(await collect(client.stream({ prompt: "refused" })).catch((e: unknown) => e)).toMatchObject({
      name: "AtomicApiError",
      status: 401,
      code: "unauthorized",
    });
    expect(await collect(client.pipelines.events(crypto.randomUUID())).catch((e: unknown) => e)).toMatchObject({
      status: 401,
      code: "unauthorized",
    });
  });
});
