import { describe, expect, it } from "vitest";
import { emptyHistogram, HistogramState, LATENCY_BUCKETS_S, observe, quantileMs } from "./histogram.ts";

/** A histogram holding the given latencies in milliseconds. */
function histogramOf(...ms: number[]): HistogramState {
  const state = emptyHistogram();
  for (const value of ms) observe(state, value);
  return state;
}

/** The bucket counts as `{ upper bound in seconds: count }`, only the non-empty ones. */
function filled(state: HistogramState): Record<string, number> {
  const out: Record<string, number> = {};
  LATENCY_BUCKETS_S.forEach((bound, i) => {
    const count = state.counts[i] ?? 0;
    if (count > 0) out[String(bound)] = count;
  });
  return out;
}

describe("observe", () => {
  it("starts with one empty bucket a bound", () => {
    const state = emptyHistogram();
    expect(state.counts).toHaveLength(LATENCY_BUCKETS_S.length);
    expect(state).toEqual({ counts: LATENCY_BUCKETS_S.map(() => 0), sum: 0, count: 0 });
  });

  it("counts a value in the first bucket whose upper bound holds it, bounds included", () => {
    expect(filled(histogramOf(5))).toEqual({ "0.005": 1 });
    expect(filled(histogramOf(5.001))).toEqual({ "0.01": 1 });
    expect(filled(histogramOf(0, 1_000, 1_000.5, 299_999))).toEqual({ "0.005": 1, "1": 1, "2.5": 1, "300": 1 });
  });

  it("adds to the sum in seconds and to the count", () => {
    const state = histogramOf(30, 70, 1_200);
    expect(state.count).toBe(3);
    expect(state.sum).toBeCloseTo(1.3, 12);
  });

  it("counts a value past the last bound in the sum and count only", () => {
    const state = histogramOf(400_000);
    expect(filled(state)).toEqual({});
    expect(state.count).toBe(1);
    expect(state.sum).toBe(400);
  });
});

describe("quantileMs", () => {
  it("answers null for an empty histogram", () => {
    expect(quantileMs(emptyHistogram(), 0.5)).toBeNull();
    expect(quantileMs(emptyHistogram(), 0.99)).toBeNull();
  });

  it("interpolates linearly inside the one bucket that holds everything", () => {
    const state = histogramOf(30, 30, 30, 30); // all in (25 ms, 50 ms]
    expect(quantileMs(state, 0.25)).toBeCloseTo(31.25, 9);
    expect(quantileMs(state, 0.5)).toBeCloseTo(37.5, 9);
    expect(quantileMs(state, 1)).toBeCloseTo(50, 9);
  });

  it("takes the lower bound of the first bucket as zero", () => {
    expect(quantileMs(histogramOf(1, 2), 0.5)).toBeCloseTo(2.5, 9); // rank 1 of 2 in (0, 5 ms]
  });

  it("finds the bucket a rank falls in and interpolates there, over empty buckets between", () => {
    const state = histogramOf(3, 3, 3, 3, 3, 80, 80, 80, 80, 80); // five in (0, 5], five in (50, 100]
    expect(quantileMs(state, 0.5)).toBeCloseTo(5, 9);
    expect(quantileMs(state, 0.6)).toBeCloseTo(60, 9);
    expect(quantileMs(state, 0.9)).toBeCloseTo(90, 9);
    expect(quantileMs(state, 0.99)).toBeCloseTo(99, 9);
  });

  it("answers the lower bound of the first bucket holding anything for q = 0, not NaN", () => {
    expect(quantileMs(histogramOf(80, 90), 0)).toBe(50);
  });

  it("answers the last bound for a rank among values past it, as histogram_quantile does", () => {
    const state = histogramOf(100, 500_000);
    expect(quantileMs(state, 0.5)).toBeCloseTo(100, 9);
    expect(quantileMs(state, 0.99)).toBe(300_000);
    expect(quantileMs(histogramOf(400_000, 500_000), 0.5)).toBe(300_000);
  });

  it("gives the same answer for a state stored as JSON and parsed back", () => {
    const state = histogramOf(12, 48, 230, 1_900, 7_000);
    const stored = HistogramState.parse(JSON.parse(JSON.stringify(state)));
    expect(quantileMs(stored, 0.5)).toBe(quantileMs(state, 0.5));
    // Rank 2.5 of 5: half-way into (100 ms, 250 ms], the third bucket that holds anything.
    expect(quantileMs(stored, 0.5)).toBeCloseTo(175, 9);
  });
});
