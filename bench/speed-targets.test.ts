import { describe, expect, it } from "vitest";
import { SELF } from "./monitor.ts";
import { ComparableResults, speedTargets } from "./speed-targets.ts";

/** A bench's results as its JSON file has them, with the figures the comparison reads. */
function results(figures: {
  warmP50: number;
  dockerOverWarm: number;
  roundP50: number;
  inContainerP50?: number;
  overheadP50: number;
  perMin: number[];
  throughputRss: Record<string, number>;
}): ComparableResults {
  return ComparableResults.parse({
    schema: "atomic-bench/1",
    sandbox: {
      warm_ms: { p50: figures.warmP50 },
      docker_run_ms: { p50: figures.warmP50 * figures.dockerOverWarm },
      docker_run_over_warm: figures.dockerOverWarm,
    },
    verification: {
      verifying_stage_ms: { p50: figures.roundP50 },
      test_round_ms: { p50: figures.roundP50 - 100 },
      ...(figures.inContainerP50 === undefined ? {} : { in_container_ms: { p50: figures.inContainerP50 } }),
    },
    generate: { overhead_p50_ms: figures.overheadP50 },
    throughput: figures.perMin.map((pipelines_per_min, i) => ({ pipelines_per_min, concurrency: 2 ** i })),
    sections: [
      { name: "warm-up", peak_rss_mb: { workerd: 900 } },
      { name: "throughput c=1", peak_rss_mb: { workerd: 10 } },
      { name: "throughput c=16", peak_rss_mb: figures.throughputRss },
    ],
  });
}

const BASELINE = results({
  warmP50: 72.7,
  dockerOverWarm: 4.3,
  roundP50: 400,
  overheadP50: 26.7,
  perMin: [1800, 3100, 2900],
  throughputRss: { workerd: 300, "host-agent bench-main": 90, [SELF]: 400 },
});

describe("the speed targets against a baseline", () => {
  it("says met for each target the current run reaches, from its own figures and the baseline's", () => {
    const rows = speedTargets(
      BASELINE,
      results({
        warmP50: 28,
        dockerOverWarm: 12,
        roundP50: 450,
        inContainerP50: 350,
        overheadP50: 15,
        perMin: [4000, 4700],
        throughputRss: { workerd: 300, "host-agent bench-main": 90, python: 25, [SELF]: 900 },
      }),
    );
    expect(rows.map((row) => row.met)).toEqual([true, true, true, true, true]);
    expect(rows[3]).toMatchObject({ baseline: "3,100 /min", current: "4,700 /min (1.52× the baseline)" });
    // The bench's own process (the load client, with wrangler) is not the stack.
    expect(rows[4]).toMatchObject({ current: "415 MB", baseline: "390 MB" });
  });

  it("says not met with the figure that misses, one target at a time", () => {
    const rows = speedTargets(
      BASELINE,
      results({
        warmP50: 31,
        dockerOverWarm: 12,
        roundP50: 600,
        inContainerP50: 350,
        overheadP50: 16.1,
        perMin: [4600],
        throughputRss: { workerd: 420, "host-agent bench-main": 90 },
      }),
    );
    expect(rows.map((row) => row.met)).toEqual([false, false, false, false, false]);
    expect(rows[0]?.current).toBe("p50 31 ms, 12× faster than docker run");
    // 4,600 is 1.48× 3,100: shown as such, not rounded up to the goal.
    expect(rows[3]?.current).toBe("4,600 /min (1.48× the baseline)");
  });

  it("reports what a run did not measure, a section that was skipped or a file from an older bench", () => {
    const older = ComparableResults.parse({
      schema: "atomic-bench/1",
      sandbox: { skipped: "no Docker engine answers" },
    });
    const rows = speedTargets(
      older,
      results({
        ...{ warmP50: 20, dockerOverWarm: 15, roundP50: 300 },
        overheadP50: 10,
        perMin: [5000],
        throughputRss: { workerd: 100 },
      }),
    );
    expect(rows.map((row) => row.baseline)).toEqual([
      "not measured",
      "not measured",
      "not measured",
      "not measured",
      "not measured",
    ]);
    // Met where the target needs only the current run; unknown where it needs the baseline or a figure not taken.
    expect(rows.map((row) => row.met)).toEqual([true, null, null, null, true]);
    expect(rows[1]?.current).toBe(
      "VERIFYING p50 300 ms (the driver's own 200 ms); the driver in a running container not measured",
    );
  });
});
