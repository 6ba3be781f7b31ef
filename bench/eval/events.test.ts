import { describe, expect, it } from "vitest";
import type { ClientEvent } from "../../shared/src/index.ts";
import { finalEvent, firstAnswer, orderedEvents, takeSseEvents } from "./events.ts";

const P = "p1";
let seq = 0;
const stage = (name: string, status: string, round?: number): ClientEvent =>
  ({
    type: "stage",
    seq: ++seq,
    pipeline_id: P,
    stage: name,
    status,
    attempt: 1,
    ...(round === undefined ? {} : { round }),
  }) as ClientEvent;
const chunk = (delta: string, is_final = false): ClientEvent => ({
  type: "chunk",
  seq: ++seq,
  pipeline_id: P,
  delta,
  is_final,
});

describe("firstAnswer", () => {
  it("is GENERATING's text, not a repair's", () => {
    seq = 0;
    const events = [
      stage("PARSING", "started"),
      stage("PARSING", "completed"),
      stage("GENERATING", "started"),
      chunk("```python main.py\n"),
      chunk("print(1)\n```\n"),
      stage("GENERATING", "completed"),
      stage("VERIFYING", "started", 0),
      stage("VERIFYING", "completed", 0),
      stage("REPAIRING", "started", 1),
      chunk("```python main.py\nprint(2)\n```\n"),
      stage("REPAIRING", "completed", 1),
      chunk("", true),
    ];
    expect(firstAnswer(events)).toBe("```python main.py\nprint(1)\n```\n");
  });

  it("starts over when GENERATING starts again (a retry or a lost agent)", () => {
    seq = 0;
    const events = [
      stage("GENERATING", "started"),
      chunk("torn"),
      stage("GENERATING", "restarted"),
      stage("GENERATING", "started"),
      chunk("whole"),
      stage("GENERATING", "completed"),
    ];
    expect(firstAnswer(events)).toBe("whole");
  });

  it("takes events in seq order, each once, whatever order they came in", () => {
    seq = 0;
    const start = stage("GENERATING", "started");
    const a = chunk("a");
    const b = chunk("b");
    const done = stage("GENERATING", "completed");
    expect(firstAnswer([b, start, a, b, a, done])).toBe("ab");
  });

  it("settles at the first REPAIRING when GENERATING's completion is missing", () => {
    seq = 0;
    expect(firstAnswer([stage("GENERATING", "started"), chunk("x"), stage("REPAIRING", "started", 1)])).toBe("x");
  });

  it("is null when GENERATING never completed", () => {
    seq = 0;
    expect(firstAnswer([stage("GENERATING", "started"), chunk("half")])).toBeNull();
    expect(firstAnswer([])).toBeNull();
  });
});

describe("orderedEvents and finalEvent", () => {
  it("drops events without seq and repeats", () => {
    seq = 0;
    const a = chunk("a");
    const frameError: ClientEvent = { type: "error", error: "bad frame", code: "invalid_request" };
    expect(orderedEvents([a, frameError, a]).map((e) => e.seq)).toEqual([1]);
    expect(finalEvent([a, frameError])).toBeNull();
  });

  it("finds the pipeline's result or error", () => {
    seq = 0;
    const failed: ClientEvent = { type: "error", seq: 9, pipeline_id: P, error: "boom", code: "internal" };
    expect(finalEvent([chunk("a"), failed])).toBe(failed);
  });
});

describe("takeSseEvents", () => {
  it("parses complete blocks and keeps the incomplete rest", () => {
    const first = `id: 1\nevent: chunk\ndata: ${JSON.stringify({ type: "chunk", seq: 1, pipeline_id: P, delta: "a", is_final: false })}\n\n`;
    const second = `id: 2\nevent: chunk\ndata: ${JSON.stringify({ type: "chunk", seq: 2, pipeline_id: P, delta: "b", is_final: false })}\n\n`;
    const text = "retry: 2000\n\n" + first + second;
    const cut = text.length - 10;
    const head = takeSseEvents(text.slice(0, cut));
    expect(head.events.map((e) => e.seq)).toEqual([1]);
    const tail = takeSseEvents(head.rest + text.slice(cut));
    expect(tail.events.map((e) => e.seq)).toEqual([2]);
    expect(tail.rest).toBe("");
  });

  it("skips data that is not a client event, and reads CRLF streams", () => {
    const good = JSON.stringify({ type: "chunk", seq: 3, pipeline_id: P, delta: "c", is_final: false });
    const { events } = takeSseEvents(`data: not json\n\ndata: {"type":"nope"}\n\r\nid: 3\r\ndata: ${good}\r\n\r\n`);
    expect(events.map((e) => e.seq)).toEqual([3]);
  });
});
