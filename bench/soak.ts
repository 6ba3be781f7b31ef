/**
 * `npm run soak`: many pipelines through the whole stack, then an idle period, with the memory of
 * every process and the edge's disk use sampled throughout (bench/soak-run.ts). Prints a table,
 * writes bench/results/soak.json, and exits 1 when any pipeline failed.
 *
 *   npm run soak -- --pipelines 20000 --concurrency 32 --retention-hours 0.01 --idle-seconds 90
 *
 * Options: --pipelines N (2000), --concurrency N (32), --retention-hours H (0.01 = 36 s),
 * --idle-seconds S (90), --warmup N (1000, or a tenth of --pipelines when that is smaller),
 * --max-load-minutes M (stop sending after M minutes, whatever was sent; 0: no limit),
 * --sample-seconds S (5), --sandbox (host-agent with its Docker sandbox), --heap (read the Worker
 * isolate's V8 heap over workerd's inspector; after the idle period, collect every isolate in full
 * and read them all), --allocator (read workerd's tcmalloc with gdb at each checkpoint; it stops workerd ~1 s each time),
 * --out FILE (bench/results/soak.json).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "../test/support/edge.ts";
import { commandLine } from "./command-line.ts";
import { edgeErrorCounts, filterEdgeErrors } from "./console-filter.ts";
import { progress } from "./progress.ts";
import { soakTables, soakVerdicts } from "./soak-report.ts";
import { runSoak, SOAK_DEFAULTS } from "./soak-run.ts";
import type { Stack } from "./stack.ts";
import { StopSignals } from "./stop-signals.ts";

const USAGE = `npm run soak -- [options]: many pipelines through the whole stack, then idle; every process's memory and the edge's disk over time

  --pipelines N         pipelines to send (${SOAK_DEFAULTS.pipelines})
  --concurrency N       clients sending at once (${SOAK_DEFAULTS.concurrency})
  --retention-hours H   the edge's ATOMIC_PIPELINE_RETENTION_HOURS (${SOAK_DEFAULTS.retentionHours})
  --idle-seconds S      the idle period after the load (${SOAK_DEFAULTS.idleSeconds})
  --warmup N            the checkpoint the memory bar compares with (1000, or a tenth of --pipelines)
  --max-load-minutes M  stop sending after M minutes (0: no limit)
  --sample-seconds S    how often to sample (${SOAK_DEFAULTS.sampleEverySeconds})
  --sandbox             the host-agent with its Docker sandbox
  --heap                the Worker isolate's V8 heap; after idle, every isolate collected in full
  --allocator           workerd's tcmalloc, read with gdb (stops workerd ~1 s per reading)
  --out FILE            where the JSON goes (bench/results/soak.json)
  --help                this text`;

const values = commandLine(
  {
    pipelines: { type: "string" },
    concurrency: { type: "string" },
    "retention-hours": { type: "string" },
    "idle-seconds": { type: "string" },
    "max-load-minutes": { type: "string" },
    warmup: { type: "string" },
    "sample-seconds": { type: "string" },
    sandbox: { type: "boolean", default: false },
    heap: { type: "boolean", default: false },
    allocator: { type: "boolean", default: false },
    out: { type: "string" },
  },
  USAGE,
);

function num(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number of at least ${min} (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

const pipelines = Math.round(num("pipelines", values.pipelines, SOAK_DEFAULTS.pipelines, 1));
const options = {
  ...SOAK_DEFAULTS,
  pipelines,
  concurrency: Math.round(num("concurrency", values.concurrency, SOAK_DEFAULTS.concurrency, 1)),
  retentionHours: num("retention-hours", values["retention-hours"], SOAK_DEFAULTS.retentionHours, 0.001),
  idleSeconds: num("idle-seconds", values["idle-seconds"], SOAK_DEFAULTS.idleSeconds, 0),
  maxLoadMinutes: num("max-load-minutes", values["max-load-minutes"], SOAK_DEFAULTS.maxLoadMinutes, 0),
  warmup: Math.round(
    num("warmup", values.warmup, Math.min(SOAK_DEFAULTS.warmup, Math.max(1, Math.round(pipelines / 10))), 1),
  ),
  sampleEverySeconds: num("sample-seconds", values["sample-seconds"], SOAK_DEFAULTS.sampleEverySeconds, 0.2),
  sandbox: values.sandbox,
  heap: values.heap,
  allocator: values.allocator,
};
const out = values.out ?? join(ROOT, "bench", "results", "soak.json");

filterEdgeErrors();
let stack: Stack | null = null;
const signals = new StopSignals(
  async () => {
    await stack?.stopAll();
  },
  () => stack?.killNow(),
);

async function main(): Promise<number> {
  const result = await runSoak({
    ...options,
    onProgress: progress,
    onStack: (started) => {
      stack = started;
      signals.keepOnlyOurs();
    },
  });
  result.edge_log_errors = edgeErrorCounts();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...result, verdicts: soakVerdicts(result) }, null, 2)}\n`);
  console.log(`\n${soakTables(result)}\n\nwritten: ${out}`);
  return result.error_count > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
