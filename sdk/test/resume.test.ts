import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent } from "../../test/support/fake-agent.ts";
import { AtomicClient, type ClientEvent } from "../src/index.ts";
import { collect, waitUntil } from "./helpers.ts";
import { TcpProxy } from "./tcp-proxy.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
let proxy: TcpProxy;
let client: AtomicClient;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge);
  proxy = await TcpProxy.start(edge.url);
  client = new AtomicClient({ baseUrl: proxy.url });
});
afterAll(async () => {
  await proxy?.close();
  agent?.close();
  await edge?.dispose();
});

const TOKENS = Array.from({ length: 12 }, (_, i) => `token ${i + 1}; `);

/** Every event exactly once: seqs 1…N in order, ending with the result, whose content the deltas make. */
function expectExactlyOnce(events: ClientEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const last = events.at(-1);
  expect(last?.type).toBe("result");
  const deltas = events.flatMap((e) => (e.type === "chunk" ? [e.delta] : [])).join("");
  expect(deltas).toBe(TOKENS.join(""));
  expect(last?.type === "result" && last.content).toBe(deltas);
}

/** Streams half the tokens, lets `fault` hit the client's connection, then streams the rest. */
async function streamThrough(fault: () => void, stallMs: number): Promise<ClientEvent[]> {
  const before = proxy.connections;
  const events: ClientEvent[] = [];
  const done = collect(client.stream({ prompt: "count tokens" }, { stallMs }), events);
  const job = await agent.nextJob();
  TOKENS.slice(0, 6).forEach((text, i) => agent.token(job, i + 1, text));
  await waitUntil(() => events.filter((e) => e.type === "chunk").length > 0, 5_000, "a chunk");
  fault();
  TOKENS.slice(6).forEach((text, i) => agent.token(job, i + 7, text));
  agent.result(job, TOKENS.length, { chars: TOKENS.join("").length, finish_reason: "stop", provider: "test" });
  await done;
  expect(proxy.connections - before).toBeGreaterThanOrEqual(2);
  return events;
}

describe("stream resumes", () => {
  it("after the connection is cut mid-stream: every event exactly once", async () => {
    expectExactlyOnce(await streamThrough(() => proxy.cut(), 10_000));
  });

  it("after the connection stalls (open, but silent past stallMs)", async () => {
    const started = Date.now();
    expectExactlyOnce(await streamThrough(() => proxy.stall(), 1_000));
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a follower too (pipelines.events), cut twice", async () => {
    const accepted = await fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "count tokens", async: true }),
    });
    const { pipeline_id: id } = (await accepted.json()) as { pipeline_id: string };
    const before = proxy.connections;
    const events: ClientEvent[] = [];
    const done = collect(client.pipelines.events(id, { stallMs: 10_000 }), events);
    const job = await agent.nextJob();
    for (const [from, to] of [
      [0, 4],
      [4, 8],
      [8, 12],
    ] as const) {
      TOKENS.slice(from, to).forEach((text, i) => agent.token(job, from + i + 1, text));
      if (to === 12) break;
      await waitUntil(() => events.filter((e) => e.type === "chunk").length > from, 5_000, "a chunk");
      proxy.cut();
    }
    agent.result(job, TOKENS.length, { chars: TOKENS.join("").length, finish_reason: "stop", provider: "test" });
    await done;
    expect(proxy.connections - before).toBeGreaterThanOrEqual(3);
    expectExactlyOnce(events);
  });
});
