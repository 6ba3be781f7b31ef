import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../shared/src/index.ts";
import { readClientFrame } from "./client-frames.ts";

/** A binary WebSocket message holding `text`. */
function binary(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

describe("client frames", () => {
  it("starts a pipeline from the first frame of a /ws/stream socket", () => {
    const frame = readClientFrame(JSON.stringify({ prompt: "hi", metadata: { language: "python" } }), true, null);
    expect(frame).toMatchObject({ type: "start", request: { prompt: "hi", metadata: { language: "python" } } });
  });

  it("names what is wrong with a bad generate request", () => {
    const frame = readClientFrame(JSON.stringify({ prompt: 5 }), true, null);
    expect(frame).toMatchObject({ type: "error", code: "invalid_request" });
    expect(frame.type === "error" && frame.message).toContain("prompt");
  });

  it("understands ping and cancel once the socket follows a pipeline, and nothing else", () => {
    expect(readClientFrame('{"type":"ping"}', false, "p1")).toEqual({ type: "ping" });
    expect(readClientFrame(binary('{"type":"cancel"}'), false, "p1")).toEqual({
      type: "cancel",
    });
    const other = readClientFrame(JSON.stringify({ prompt: "another" }), false, "p1");
    expect(other).toMatchObject({ type: "error", code: "conflict" });
    expect(other.type === "error" && other.message).toContain("already follows pipeline p1");
  });

  it("answers ping before a prompt, and says there is nothing to cancel yet", () => {
    expect(readClientFrame('{ "type": "ping" }', true, null)).toEqual({ type: "ping" });
    const cancel = readClientFrame('{"type":"cancel"}', true, null);
    expect(cancel).toMatchObject({ type: "error", code: "conflict" });
    expect(cancel.type === "error" && cancel.message).toContain("no prompt");
  });

  it("refuses frames that are not JSON, and frames over the limit measured in bytes", () => {
    expect(readClientFrame("{nope", false, "p1")).toMatchObject({ type: "error", code: "invalid_json" });
    // Under the limit in characters, over it in UTF-8 bytes.
    const wide = JSON.stringify({ prompt: "é".repeat(LIMITS.clientFrameMaxBytes / 2 + 10) });
    expect(wide.length).toBeLessThan(LIMITS.clientFrameMaxBytes);
    expect(readClientFrame(wide, true, null)).toMatchObject({ type: "error", code: "payload_too_large" });
  });
});
