import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenBatcher } from "./token-batcher.ts";

// The batcher takes its time from setTimeout, so fake timers make its windows exact.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function recording(options: { flushMs?: number; maxChars?: number }): { batcher: TokenBatcher; sent: string[] } {
  const sent: string[] = [];
  return { batcher: new TokenBatcher((text) => sent.push(text), options), sent };
}

describe("TokenBatcher", () => {
  it("sends the text pushed within flushMs as one piece when the window ends, not before", () => {
    const { batcher, sent } = recording({ flushMs: 10 });
    batcher.push("def ");
    batcher.push("main");
    batcher.push("():");
    vi.advanceTimersByTime(9);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["def main():"]);
  });

  it("counts the window from the first push, so steady pushes cannot hold text back", () => {
    const { batcher, sent } = recording({ flushMs: 10 });
    batcher.push("a");
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(2);
      batcher.push("b");
    }
    vi.advanceTimersByTime(2);
    expect(sent).toEqual(["abbbb"]);
    batcher.push("c");
    vi.advanceTimersByTime(9);
    expect(sent).toEqual(["abbbb"]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["abbbb", "c"]);
  });

  it("sends at once when maxChars have gathered, in pieces of at most maxChars, in order", () => {
    const { batcher, sent } = recording({ flushMs: 1000, maxChars: 4 });
    batcher.push("ab");
    expect(sent).toEqual([]);
    batcher.push("cdefghij");
    expect(sent).toEqual(["abcd", "efgh", "ij"]);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(["abcd", "efgh", "ij"]);
  });

  it("sends every push at once when flushMs is 0, and keeps no timer", () => {
    const { batcher, sent } = recording({ flushMs: 0 });
    batcher.push("one");
    batcher.push("two");
    expect(sent).toEqual(["one", "two"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ignores empty text: nothing is sent and no window opens", () => {
    const { batcher, sent } = recording({ flushMs: 10 });
    batcher.push("");
    expect(vi.getTimerCount()).toBe(0);
    batcher.flush();
    expect(sent).toEqual([]);
  });

  it("flush() sends what waits now and closes the window, so nothing is sent twice", () => {
    const { batcher, sent } = recording({ flushMs: 10 });
    batcher.push("tail");
    batcher.flush();
    expect(sent).toEqual(["tail"]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(50);
    batcher.flush();
    expect(sent).toEqual(["tail"]);
  });

  it("waits 10 ms or for 16,384 characters by default", () => {
    const { batcher, sent } = recording({});
    batcher.push("x");
    vi.advanceTimersByTime(9);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["x"]);
    batcher.push("y".repeat(16_383));
    expect(sent).toHaveLength(1);
    batcher.push("y");
    expect(sent.slice(1)).toEqual(["y".repeat(16_384)]);
  });
});
