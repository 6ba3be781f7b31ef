import { describe, expect, it } from "vitest";
import { reconnectDelayMs } from "./backoff.ts";

describe("reconnectDelayMs", () => {
  it("doubles from 1 s up to 30 s", () => {
    const none = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((attempt) => reconnectDelayMs(attempt, none))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it("takes at most a fifth off at random", () => {
    expect(reconnectDelayMs(0, () => 1)).toBe(800);
    expect(reconnectDelayMs(10, () => 0.5)).toBe(27000);
  });
});
