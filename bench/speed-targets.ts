/**
 * The speed targets of this stage of the project, each measured against a baseline commit's bench
 * in the same session (`npm run bench -- --baseline REF`): the warm sandbox near the engine's
 * floor, a verification round near the same command in a running container, a pipeline's overhead
 * and throughput against the baseline's, and the whole local stack's memory under load.
 *
 * Both runs' results are read through the schema below, not cast: the baseline's file comes from
 * another commit's bench, and a figure it does not have is reported as not measured.
 */
import { z } from "zod";
import { SELF } from "./monitor.ts";

const Percentiles = z.object({ p50: z.number() });
const Failed = z.union([z.object({ skipped: z.string() }), z.object({ failed: z.string() })]);
const section = <T extends z.ZodType>(schema: T) => z.union([schema, Failed]).optional().catch(undefined);

/** What the comparison reads of a bench's results; every part optional, so older files parse. */
export const ComparableResults = z.object({
  sandbox: section(z.object({ warm_ms: Percentiles, docker_run_ms: Percentiles, docker_run_over_warm: z.number() })),
  verification: section(
    z.object({ verifying_stage_ms: Percentiles, test_round_ms: Percentiles, in_container_ms: Percentiles.optional() }),
  ),
  generate: section(z.object({ overhead_p50_ms: z.number() })),
  throughput: section(z.array(z.object({ pipelines_per_min: z.number(), concurrency: z.number() }))),
  sections: z
    .array(z.object({ name: z.string(), peak_rss_mb: z.record(z.string(), z.number()) }))
    .optional()
    .catch(undefined),
});
export type ComparableResults = z.infer<typeof ComparableResults>;

export interface TargetRow {
  target: string;
  baseline: string;
  current: string;
  goal: string;
  /** null: the current run did not measure it. */
  met: boolean | null;
}

/** The seed's memory promise, for the whole local stack. */
const STACK_MEMORY_MB = 500;

function measured<T extends object>(value: T | z.infer<typeof Failed> | undefined): T | null {
  if (value === undefined || "skipped" in value || "failed" in value) return null;
  return value;
}

const ms = (value: number) => `${Math.round(value * 10) / 10} ms`;
// Two decimals: a ratio just short of its goal must not print as the goal.
const times = (value: number) => `${Math.round(value * 100) / 100}×`;

function bestThroughput(results: ComparableResults): number | null {
  const levels = measured(results.throughput);
  if (levels === null || levels.length === 0) return null;
  return Math.max(...levels.map((level) => level.pipelines_per_min));
}

/**
 * The stack's memory while the throughput levels run: each level's peak RSS of every process
 * added, the highest level's sum. wrangler's Node process is the bench's own (it runs the load
 * client too), so it is left out with it.
 */
function stackMemory(results: ComparableResults): number | null {
  const levels = (results.sections ?? []).filter((s) => s.name.startsWith("throughput"));
  if (levels.length === 0) return null;
  return Math.max(
    ...levels.map((level) =>
      Object.entries(level.peak_rss_mb)
        .filter(([name]) => name !== SELF)
        .reduce((sum, [, mb]) => sum + mb, 0),
    ),
  );
}

export function speedTargets(baseline: ComparableResults, current: ComparableResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const [sandboxBefore, sandboxNow] = [measured(baseline.sandbox), measured(current.sandbox)];
  rows.push({
    target: "warm print(1) through POST /api/execute",
    baseline: sandboxBefore
      ? `p50 ${ms(sandboxBefore.warm_ms.p50)}, ${times(sandboxBefore.docker_run_over_warm)} faster than docker run`
      : "not measured",
    current: sandboxNow
      ? `p50 ${ms(sandboxNow.warm_ms.p50)}, ${times(sandboxNow.docker_run_over_warm)} faster than docker run`
      : "not measured",
    goal: "p50 ≤ 30 ms and ≥ 10× faster than docker run --rm",
    met: sandboxNow ? sandboxNow.warm_ms.p50 <= 30 && sandboxNow.docker_run_over_warm >= 10 : null,
  });

  const [roundBefore, roundNow] = [measured(baseline.verification), measured(current.verification)];
  const inContainer = roundNow?.in_container_ms;
  // The round as a pipeline waits for it: the VERIFYING stage (the job's placement, the files, the
  // container, the driver, the report's way back), not only the driver's own time inside.
  const round = (figures: NonNullable<typeof roundNow>) =>
    `VERIFYING p50 ${ms(figures.verifying_stage_ms.p50)} (the driver's own ${ms(figures.test_round_ms.p50)})`;
  rows.push({
    target: "a verification round in a warm container",
    baseline: roundBefore ? round(roundBefore) : "not measured",
    current: roundNow
      ? `${round(roundNow)}; the driver in a running container ${inContainer ? ms(inContainer.p50) : "not measured"}`
      : "not measured",
    goal: "≤ 1.5× the same command in an already-running container",
    met: roundNow && inContainer ? roundNow.verifying_stage_ms.p50 <= 1.5 * inContainer.p50 : null,
  });

  const [overheadBefore, overheadNow] = [measured(baseline.generate), measured(current.generate)];
  rows.push({
    target: "generate overhead over the /health floor (p50)",
    baseline: overheadBefore ? ms(overheadBefore.overhead_p50_ms) : "not measured",
    current:
      overheadNow && overheadBefore
        ? `${ms(overheadNow.overhead_p50_ms)} (${times(overheadNow.overhead_p50_ms / overheadBefore.overhead_p50_ms)} the baseline)`
        : overheadNow
          ? ms(overheadNow.overhead_p50_ms)
          : "not measured",
    goal: "≤ 0.6× the baseline",
    met: overheadNow && overheadBefore ? overheadNow.overhead_p50_ms <= 0.6 * overheadBefore.overhead_p50_ms : null,
  });

  const [rateBefore, rateNow] = [bestThroughput(baseline), bestThroughput(current)];
  rows.push({
    target: "throughput (best level)",
    baseline: rateBefore === null ? "not measured" : `${Math.round(rateBefore).toLocaleString("en-US")} /min`,
    current:
      rateNow === null
        ? "not measured"
        : `${Math.round(rateNow).toLocaleString("en-US")} /min${rateBefore ? ` (${times(rateNow / rateBefore)} the baseline)` : ""}`,
    goal: "≥ 1.5× the baseline",
    met: rateNow !== null && rateBefore !== null ? rateNow >= 1.5 * rateBefore : null,
  });

  const [memoryBefore, memoryNow] = [stackMemory(baseline), stackMemory(current)];
  rows.push({
    target: "the stack's memory during the throughput levels (peaks added; wrangler's Node process left out)",
    baseline: memoryBefore === null ? "not measured" : `${Math.round(memoryBefore)} MB`,
    current: memoryNow === null ? "not measured" : `${Math.round(memoryNow)} MB`,
    goal: `< ${STACK_MEMORY_MB} MB`,
    met: memoryNow === null ? null : memoryNow < STACK_MEMORY_MB,
  });
  return rows;
}
