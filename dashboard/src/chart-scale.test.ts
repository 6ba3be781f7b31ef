import { describe, expect, it } from "vitest";
import { bars, linePaths, niceMax } from "./chart-scale.ts";

describe("chart scale", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(0.3)).toBe(0.5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(10)).toBe(10);
    expect(niceMax(130)).toBe(200);
    expect(niceMax(4100)).toBe(5000);
  });

  it("draws lines through the middle of each bucket, with gaps where values are missing", () => {
    const [path] = linePaths([{ name: "p50", values: [0, 5, null, 10] }], 40, 10, 10);
    expect(path).toBe("M5 10L15 5M31 0L39 0");
  });

  it("draws a lone value as a level stroke across its bucket and clamps above the max", () => {
    expect(linePaths([{ name: "a", values: [20] }], 100, 10, 10)).toEqual(["M10 0L90 0"]);
    expect(linePaths([{ name: "a", values: [null, null, 5] }], 30, 10, 10)).toEqual(["M21 5L29 5"]);
  });

  it("lays bars out side by side from the bottom", () => {
    expect(bars([0, 5, 10], 30, 10, 10)).toEqual([
      { x: 1, y: 10, width: 8, height: 0 },
      { x: 11, y: 5, width: 8, height: 5 },
      { x: 21, y: 0, width: 8, height: 10 },
    ]);
    expect(bars([], 30, 10, 10)).toEqual([]);
  });
});
