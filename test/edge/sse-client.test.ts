import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

// The standard EventSource (the `eventsource` package) against the real edge: how browsers and
// most SSE libraries meet `GET /api/pipelines/:id/events`.

let edge: EdgeHandle;
let agent: FakeAgent;
const CODE = Array.from({ length: 12 }, (_, i) => (i === 0 ? "```python main.py\n" : `print(${i})\n`)).concat("```\n");

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "5000" });
  agent = await FakeAgent.link(edge, { capacity: 10 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

interface Received {
  name: string;
  id: string;
  data: Record<string, unknown>;
}

/**
 * A fetch for EventSource that, on its first `drops` connections, cuts the stream (as a network
 * drop does) after `keep` events arrived; it records the resume point each request carried.
 */
function droppingFetch(
  drops: number,
  keep: number,
  requests: Array<{ url: string; lastEventId: string | null; status: number }>,
) {
  return async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const lastEventId = new Headers(init?.headers).get("Last-Event-ID");
    requests.push({ url: String(input), lastEventId, status: response.status });
    if (requests.length > drops || response.body === null) return response;
    // Pass the stream through block by block, and drop the connection after `keep` events.
    const text = await response.text();
    const blocks = text.split(/(?<=\n\n)/);
    const encoder = new TextEncoder();
    let events = 0;
    const cut = new ReadableStream<Uint8Array>({
      pull(controller) {
        const block = blocks.shift();
        if (block === undefined || events >= keep) return controller.error(new Error("connection dropped"));
        if (block.includes("data: ")) events += 1;
        controller.enqueue(encoder.encode(block));
      },
    });
    return new Response(cut, { status: response.status, headers: response.headers });
  };
}

async function finishedPipeline(prompt: string, chunks: string[] = CODE): Promise<string> {
  const res = await postJson(`${edge.url}/api/generate`, { prompt, async: true });
  const id = String(res.body.pipeline_id);
  const job = await agent.nextJob();
  // One event per chunk, so a stream has enough events to be cut mid-way.
  chunks.forEach((text, i) => agent.token(job, i + 1, text));
  agent.result(job, chunks.length, { chars: chunks.join("").length, finish_reason: "stop", provider: "fake" });
  await until(
    () => getJson(`${edge.url}/api/pipelines/${id}`),
    (r) => r.body.state === "COMPLETED" || r.body.state === "FAILED",
  );
  return id;
}

/** Follows an EventSource until it gives up for good (readyState CLOSED), collecting every event. */
function follow(source: EventSource, names: string[]): Promise<Received[]> {
  const received: Received[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`EventSource still open; got ${received.length} events`)), 20_000);
    for (const name of names) {
      source.addEventListener(name, (event) => {
        // The EventSource's own `error` events carry no data; a named event from the server does.
        if (typeof event.data !== "string") return;
        received.push({ name, id: event.lastEventId, data: JSON.parse(event.data) });
      });
    }
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(timer);
        resolve(received);
      }
    });
  });
}

const NAMES = ["queued", "stage", "chunk", "verification", "result", "pipeline_error", "error"];

describe("SSE through a standard EventSource", () => {
  it("resumes after dropped connections with every event once, in order, then stops on 204", async () => {
    const id = await finishedPipeline("resume through drops");
    const all = (await fetch(`${edge.url}/api/pipelines/${id}/events`).then((r) => r.text())).match(/^id: \d+$/gm);
    const last = all?.length ?? 0;
    expect(last).toBeGreaterThan(12);

    const requests: Array<{ url: string; lastEventId: string | null; status: number }> = [];
    const source = new EventSource(`${edge.url}/api/pipelines/${id}/events?after=2`, {
      fetch: droppingFetch(2, 4, requests),
    });
    const received = await follow(source, NAMES);

    // Each event from 3 on exactly once, in order, though the URL still says after=2.
    expect(received.map((e) => Number(e.id))).toEqual(Array.from({ length: last - 2 }, (_, i) => i + 3));
    const deltas = received
      .filter((e) => e.name === "chunk")
      .map((e) => String(e.data["delta"]))
      .join("");
    const result = received.find((e) => e.name === "result");
    expect(deltas).toBe(CODE.join(""));
    expect(result?.data["content"]).toBe(CODE.join(""));
    // Two drops, a third stream to the end, then a reconnect that is told to stop.
    expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 204]);
    expect(requests.map((r) => r.lastEventId)).toEqual([null, "6", "10", String(last)]);
  }, 40_000);

  it("tells a client with nothing left to read to stop (204), and sets a reconnect delay on streams", async () => {
    const id = await finishedPipeline("nothing left");
    const view = await getJson(`${edge.url}/api/pipelines/${id}`);
    const done = await fetch(`${edge.url}/api/pipelines/${id}/events`, {
      headers: { "Last-Event-ID": String(view.body.last_seq) },
    });
    expect(done.status).toBe(204);
    expect(await done.text()).toBe("");
    const rest = await fetch(`${edge.url}/api/pipelines/${id}/events?after=${view.body.last_seq - 1}`);
    const text = await rest.text();
    expect(text.startsWith("retry: 2000\n\n")).toBe(true);
    expect(text.match(/^id: /gm)).toHaveLength(1);
  });

  it("names a pipeline's failure pipeline_error, so it is not taken for a connection error", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "fails", async: true });
    const id = String(res.body.pipeline_id);
    agent.fail(await agent.nextJob(), "llm_error", "bad API key", false);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "FAILED",
    );
    const errorData: unknown[] = [];
    const source = new EventSource(`${edge.url}/api/pipelines/${id}/events`);
    // A server event named `error` would arrive as a MessageEvent with data; the EventSource's own
    // connection errors carry none.
    source.addEventListener("error", (event) => errorData.push("data" in event ? event.data : undefined));
    const received = await follow(source, NAMES);
    const failure = received.at(-1);
    expect(failure?.name).toBe("pipeline_error");
    expect(failure?.data).toMatchObject({ type: "error", code: "llm_error", error: "bad API key" });
    expect(received.filter((e) => e.name === "error")).toEqual([]);
    // The only `error` events are the EventSource's own (the end of the stream, then the 204
    // that stops it): none carries data a client would try to parse.
    expect(errorData.length).toBeGreaterThan(0);
    expect(errorData.every((data) => data === undefined)).toBe(true);
  });
});
