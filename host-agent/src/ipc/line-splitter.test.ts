import { describe, expect, it } from "vitest";
import { IpcError } from "./ipc-error.ts";
import { encodeLine, LineSplitter, type LineEvent } from "./line-splitter.ts";

function feed(splitter: LineSplitter, ...chunks: Array<string | Buffer>): LineEvent[] {
  return chunks.flatMap((chunk) => splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
}

describe("LineSplitter", () => {
  it("cuts lines at newlines, across chunk boundaries", () => {
    const splitter = new LineSplitter(100);
    expect(feed(splitter, "ab", "c\nde", "f\n\ng")).toEqual([
      { kind: "line", text: "abc" },
      { kind: "line", text: "def" },
      { kind: "line", text: "" },
    ]);
    expect(splitter.pendingBytes).toBe(1);
    expect(feed(splitter, "\n")).toEqual([{ kind: "line", text: "g" }]);
  });

  it("decodes a multi-byte character split between chunks", () => {
    const bytes = Buffer.from("é🎉\n");
    expect(feed(new LineSplitter(100), bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4))).toEqual([
      { kind: "line", text: "é🎉" },
    ]);
  });

  it("accepts a line of exactly the limit and reports one byte more, then carries on", () => {
    const splitter = new LineSplitter(8);
    expect(feed(splitter, "12345678\n")).toEqual([{ kind: "line", text: "12345678" }]);
    expect(feed(splitter, "1234", "56789", "abc", "\nok\n")).toEqual([
      { kind: "too_long", bytes: 9 },
      { kind: "line", text: "ok" },
    ]);
    expect(splitter.pendingBytes).toBe(0);
  });

  it("never holds more than the limit of an overlong line", () => {
    const splitter = new LineSplitter(1024);
    const events = feed(splitter, Buffer.alloc(4096, 0x78));
    expect(events).toEqual([{ kind: "too_long", bytes: 4096 }]);
    expect(splitter.pendingBytes).toBe(0);
    expect(feed(splitter, Buffer.alloc(4096, 0x78), "\n{}\n")).toEqual([{ kind: "line", text: "{}" }]);
  });

  it("reports a line that is not UTF-8", () => {
    expect(feed(new LineSplitter(100), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]))).toEqual([{ kind: "bad_utf8" }]);
  });
});

describe("encodeLine", () => {
  it("writes one JSON object and a newline", () => {
    expect(encodeLine({ type: "CANCEL", id: "r1" }, 100).toString()).toBe('{"type":"CANCEL","id":"r1"}\n');
  });

  it("refuses a message over the limit", () => {
    const big = {
      type: "REQUEST" as const,
      id: "r1",
      task: "parse" as const,
      stream: false,
      payload: { prompt: "x".repeat(200) },
    };
    expect(() => encodeLine(big, 100)).toThrow(IpcError);
    expect(() => encodeLine(big, 100)).toThrow(/over the 100-byte line limit/);
  });
});
