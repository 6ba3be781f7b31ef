import { z } from "zod";

/** Bucket bounds in seconds, as Prometheus histograms count them. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const HistogramState = z.object({
  counts: z.array(z.number()),
  sum: z.number(),
  count: z.number(),
});
export type HistogramState = z.infer<typeof HistogramState>;

export function emptyHistogram(): HistogramState {
  return { counts: LATENCY_BUCKETS_S.map(() => 0), sum: 0, count: 0 };
}

/** Counts one observation in milliseconds (stored in seconds). */
export function observe(state: HistogramState, ms: number): void {
  const seconds = ms / 1000;
  state.sum += seconds;
  state.count += 1;
  const index = LATENCY_BUCKETS_S.findIndex((bound) => seconds <= bound);
  if (index >= 0) state.counts[index] = (state.counts[index] ?? 0) + 1;
}

/** The q-quantile in milliseconds, interpolated inside its bucket (as histogram_quantile does). */
export function quantileMs(state: HistogramState, q: number): number | null {
  if (state.count === 0) return null;
  const rank = q * state.count;
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
    const inBucket = state.counts[i] ?? 0;
    if (seen + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_S[i - 1] ?? 0);
      const upper = LATENCY_BUCKETS_S[i] ?? lower;
      return (lower + ((rank - seen) / inBucket) * (upper - lower)) * 1000;
    }
    seen += inBucket;
  }
  return (LATENCY_BUCKETS_S.at(-1) ?? 0) * 1000;
}
