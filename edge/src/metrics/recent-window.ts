import type { RecentMetrics } from "../../../shared/src/index.ts";
import { emptyHistogram, observe, quantileMs, type HistogramState } from "./histogram.ts";

interface Slice {
  completed: number;
  failed: number;
  cancelled: number;
  executions: number;
  /** Latencies of the pipelines that completed in the slice. */
  latency: HistogramState;
}

/**
 * The last few minutes of a pool in equal slices, for the dashboard's charts: the lifetime
 * counters cannot say what happened lately. In memory only, a fixed number of slices: its size
 * does not grow with traffic, and a restart starts it afresh (the lifetime metrics persist).
 */
export class RecentWindow {
  readonly #sliceMs: number;
  readonly #slices: number;
  /** Keyed by slice number (time / sliceMs); at most `#slices` entries after each record. */
  readonly #byNumber = new Map<number, Slice>();

  constructor(sliceMs = 10_000, slices = 30) {
    this.#sliceMs = sliceMs;
    this.#slices = slices;
  }

  pipelineEnded(now: number, state: "COMPLETED" | "FAILED" | "CANCELLED", latencyMs: number): void {
    const slice = this.#slice(now);
    if (state === "COMPLETED") {
      slice.completed += 1;
      observe(slice.latency, latencyMs);
    } else if (state === "FAILED") slice.failed += 1;
    else slice.cancelled += 1;
  }

  executionAnswered(now: number): void {
    this.#slice(now).executions += 1;
  }

  /** Every slice of the window ending with the current one, oldest first, empty ones included. */
  series(now: number): RecentMetrics {
    const last = Math.floor(now / this.#sliceMs);
    const buckets: RecentMetrics["buckets"] = [];
    for (let n = last - this.#slices + 1; n <= last; n++) {
      const slice = this.#byNumber.get(n);
      buckets.push({
        start: new Date(n * this.#sliceMs).toISOString(),
        completed: slice?.completed ?? 0,
        failed: slice?.failed ?? 0,
        cancelled: slice?.cancelled ?? 0,
        p50_ms: slice ? quantileMs(slice.latency, 0.5) : null,
        p95_ms: slice ? quantileMs(slice.latency, 0.95) : null,
        executions: slice?.executions ?? 0,
      });
    }
    return { bucket_ms: this.#sliceMs, buckets };
  }

  #slice(now: number): Slice {
    const n = Math.floor(now / this.#sliceMs);
    let slice = this.#byNumber.get(n);
    if (!slice) {
      slice = { completed: 0, failed: 0, cancelled: 0, executions: 0, latency: emptyHistogram() };
      this.#byNumber.set(n, slice);
      for (const old of this.#byNumber.keys()) if (old <= n - this.#slices) this.#byNumber.delete(old);
    }
    return slice;
  }
}
