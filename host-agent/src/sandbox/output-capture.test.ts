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

describe("output capture with the supervisor's status lines", () => {
  const nonce = "00112233445566778899aabbccddeeff";

  it("reports once both streams have their line, and leaves the lines out of the output", () => {
    const wire = concat(
      frame(1, "out"),
      frame(2, "err\n"),
      frame(1, `\n${nonce} 0 0 0\n`),
      frame(2, `${nonce} 0 0 0\n`),
    );
    for (let size = 1; size <= wire.length; size += 3) {
      const capture = new OutputCapture(1024);
      const statuses: unknown[] = [];
      capture.expectStatus(nonce, (status) => statuses.push(status));
      for (let at = 0; at < wire.length; at += size) {
        capture.push(wire.subarray(at, at + size));
        // Never before the second line is complete.
        if (at + size < wire.length) expect(statuses).toEqual([]);
      }
      expect(statuses).toEqual([{ exitCode: 0, signal: 0, oomKills: 0 }]);
      expect(capture.result()).toEqual({ stdout: "out\n", stderr: "err\n", truncated: false });
    }
  });

  it("counts as truncated only the program's own output past the limit", () => {
    const exactly = new OutputCapture(4);
    exactly.expectStatus(nonce, () => undefined);
    exactly.push(concat(frame(1, `abcd${nonce} 0 0 0\n`), frame(2, `${nonce} 0 0 0\n`)));
    expect(exactly.result()).toEqual({ stdout: "abcd", stderr: "", truncated: false });

    const over = new OutputCapture(4);
    over.expectStatus(nonce, () => undefined);
    over.push(concat(frame(1, `abcdef${nonce} 1 0 0\n`), frame(2, `${nonce} 1 0 0\n`)));
    expect(over.result()).toEqual({ stdout: "abcd", stderr: "", truncated: true });
  });

  it("keeps a line with another nonce as output", () => {
    const capture = new OutputCapture(1024);
    const statuses: unknown[] = [];
    capture.expectStatus(nonce, (status) => statuses.push(status));
    const forged = "ffffffffffffffffffffffffffffffff 0 0 0\n";
    capture.push(concat(frame(1, forged), frame(2, forged)));
    expect(statuses).toEqual([]);
    expect(capture.result().stdout).toBe(forged);
  });
});
