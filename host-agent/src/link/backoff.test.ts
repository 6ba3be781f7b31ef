import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("Backoff", () => {
  it("doubles its ceiling up to the cap, with full jitter below it", () => {
    const top = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0 });
    expect(bottom.next()).toBe(0);
  });

  it("starts over only after a stable period", () => {
    const backoff = new Backoff({ baseMs: 100, capMs: 10_000, stableMs: 1000, random: () => 0.999999 });
    backoff.next();
    backoff.next();
    backoff.connected(0);
    backoff.disconnected(500);
    expect(backoff.next()).toBe(399);
    backoff.connected(1000);
    backoff.disconnected(2500);
    expect(backoff.next()).toBe(99);
  });
});
