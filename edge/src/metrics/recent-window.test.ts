import { describe, expect, it } from "vitest";
import { RecentWindow } from "./recent-window.ts";

describe("RecentWindow", () => {
  const t0 = Date.parse("2026-12-01T12:00:00Z");

  it("counts endings in the slice they happened in, oldest slice first", () => {
    const window = new RecentWindow(10_000, 6);
    window.pipelineEnded(t0 + 1_000, "COMPLETED", 120);
    window.pipelineEnded(t0 + 2_000, "FAILED", 50);
    window.pipelineEnded(t0 + 12_000, "CANCELLED", 10);
    window.executionAnswered(t0 + 13_000);
    const series = window.series(t0 + 15_000);
    expect(series.bucket_ms).toBe(10_000);
    expect(series.buckets).toHaveLength(6);
    const [previous, current] = series.buckets.slice(-2);
    expect(previous).toMatchObject({ start: "2026-12-01T12:00:00.000Z", completed: 1, failed: 1, cancelled: 0 });
    expect(current).toMatchObject({ start: "2026-12-01T12:00:10.000Z", completed: 0, cancelled: 1, executions: 1 });
    expect(series.buckets[0]).toMatchObject({ completed: 0, failed: 0, p50_ms: null, p95_ms: null });
  });

  it("gives latency percentiles of the completed pipelines only", () => {
    const window = new RecentWindow(10_000, 3);
    for (let i = 0; i < 19; i++) window.pipelineEnded(t0, "COMPLETED", 40);
    window.pipelineEnded(t0, "COMPLETED", 4_000);
    window.pipelineEnded(t0, "FAILED", 100_000);
    const slice = window.series(t0).buckets.at(-1)!;
    expect(slice.p50_ms).toBeGreaterThan(25);
    expect(slice.p50_ms).toBeLessThanOrEqual(50);
    expect(slice.p95_ms).toBeLessThanOrEqual(50);
    expect(slice.completed).toBe(20);
  });

  it("forgets slices older than the window and keeps a fixed number of them", () => {
    const window = new RecentWindow(1_000, 4);
    for (let s = 0; s < 100; s++) window.pipelineEnded(t0 + s * 1_000, "COMPLETED", 10);
    const series = window.series(t0 + 99_000);
    expect(series.buckets.map((b) => b.completed)).toEqual([1, 1, 1, 1]);
    // An idle stretch longer than the window leaves it empty.
    expect(window.series(t0 + 200_000).buckets.every((b) => b.completed === 0)).toBe(true);
  });
});
