import { describe, expect, it } from "vitest";
import type { ClientEvent } from "../../shared/src/protocol/client-events.ts";
import { pipelineEvents, type StreamContext } from "./event-stream.ts";
import type { WebSocketLike } from "./socket.ts";

/**
 * Frames the real edge never sends (a newer edge's event type, a duplicate, a gap), played by a
 * scripted socket: each connection sends the next script's frames, then closes.
 */
function scripted(scripts: string[][]): { context: StreamContext; urls: string[] } {
  const urls: string[] = [];
  class ScriptedSocket implements WebSocketLike {
    readyState = 0;
    readonly #listeners = new Map<string, Array<(event: never) => void>>();
    constructor(url: string) {
      urls.push(url);
      const frames = scripts.shift() ?? [];
      setTimeout(() => {
        this.readyState = 1;
        this.#emit("open", {});
        for (const data of frames) this.#emit("message", { data });
        this.#emit("close", { code: 1006, reason: "" });
      }, 1);
    }
    send(): void {}
    close(): void {}
    addEventListener(type: string, listener: (event: never) => void): void {
      this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
    }
    #emit(type: string, event: object): void {
      for (const listener of this.#listeners.get(type) ?? []) (listener as (event: object) => void)(event);
    }
  }
  return {
    urls,
    context: {
      WebSocket: ScriptedSocket,
      wsUrl: (path, query) => `ws://edge${path}?${new URLSearchParams(query).toString()}`,
      progress: async () => ({ final: false, lastSeq: 0 }),
      explainRefusal: async () => undefined,
    },
  };
}

const P = "p-1";
const chunk = (seq: number, delta: string) =>
  JSON.stringify({ type: "chunk", seq, pipeline_id: P, delta, is_final: false });
const result = (seq: number) =>
  JSON.stringify({
    type: "result",
    seq,
    pipeline_id: P,
    state: "COMPLETED",
    content: "ab",
    artifacts: null,
    export: null,
    verified: false,
    verification: null,
    processing_time_ms: 1,
    stages: [],
  });

describe("pipelineEvents", () => {
  it("skips duplicates and unknown types (their seq counts), reconnects on a gap, after the last seq yielded", async () => {
    const { context, urls } = scripted([
      [
        chunk(1, "a"),
        JSON.stringify({ type: "pong" }),
        JSON.stringify({ type: "newer", seq: 2, pipeline_id: P }),
        chunk(4, "x"),
      ],
      [chunk(2, "dup"), chunk(3, "b"), result(4)],
    ]);
    const events: ClientEvent[] = [];
    for await (const event of pipelineEvents(context, { kind: "follow", pipelineId: P, after: 0 }, { stallMs: 1_000 }))
      events.push(event);
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["chunk", 1],
      ["chunk", 3],
      ["result", 4],
    ]);
    expect(urls).toEqual([`ws://edge/ws/pipelines/${P}?after=0`, `ws://edge/ws/pipelines/${P}?after=2`]);
  });

  it("refuses a known event that does not match its schema", async () => {
    const { context } = scripted([[JSON.stringify({ type: "chunk", seq: 1, pipeline_id: P, delta: 5 })]]);
    const events = pipelineEvents(context, { kind: "follow", pipelineId: P, after: 0 });
    await expect(events.next()).rejects.toMatchObject({ name: "AtomicProtocolError" });
  });
});
