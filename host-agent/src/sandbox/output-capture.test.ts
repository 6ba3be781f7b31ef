import { describe, expect, it } from "vitest";
import { OutputCapture } from "./output-capture.ts";

function frame(stream: 1 | 2, payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(8 + bytes.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, bytes.length);
  out.set(bytes, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe("output capture", () => {
  it("separates stdout and stderr however the frames are split across chunks", () => {
    const wire = concat(frame(1, "hello "), frame(2, "oops\n"), frame(1, "world ✓\n"));
    for (let size = 1; size <= wire.length; size++) {
      const capture = new OutputCapture(1024);
      for (let at = 0; at < wire.length; at += size) capture.push(wire.subarray(at, at + size));
      expect(capture.result()).toEqual({ stdout: "hello world ✓\n", stderr: "oops\n", truncated: false });
    }
  });

  it("keeps at most the limit of each stream, reports truncation and counts everything seen", () => {
    const capture = new OutputCapture(10);
    capture.push(frame(1, "0123456789abcdef"));
    capture.push(frame(2, "short"));
    capture.push(frame(1, "more"));
    expect(capture.result()).toEqual({ stdout: "0123456789", stderr: "short", truncated: true });
    expect(capture.totalBytes).toBe(25);
  });

  it("does not end truncated output in half a character", () => {
    const capture = new OutputCapture(5);
    capture.push(frame(1, "abcd✓✓")); // ✓ is 3 bytes: the cap falls inside the first one
    const { stdout, truncated } = capture.result();
    expect(stdout).toBe("abcd");
    expect(truncated).toBe(true);
  });
});
