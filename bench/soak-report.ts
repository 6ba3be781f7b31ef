/** The tables and verdicts of a soak (bench/soak-run.ts), for the terminal and soak.json. */
import { PROCESS_NAMES, WORKERD, type Checkpoint, type SoakResult } from "./soak-run.ts";
import { renderTable } from "./table.ts";

/** The issue's bar for workerd: its memory after the idle period within this of its post-warm-up level. */
export const IDLE_BOUND_MB = 150;

export interface SoakVerdict {
  check: string;
  measured: string;
  met: boolean;
}

function point(result: SoakResult, name: Checkpoint["name"]): Checkpoint | undefined {
  return result.checkpoints.find((c) => c.name === name);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function n(value: number): string {
  return value.toLocaleString("en-US");
}

export function soakVerdicts(result: SoakResult): SoakVerdict[] {
  const warm = point(result, "warm");
  const idle = point(result, "idle");
  const verdicts: SoakVerdict[] = [
    { check: "errors", measured: String(result.error_count), met: result.error_count === 0 },
  ];
  const warmRss = warm?.processes[WORKERD]?.rss_mb;
  const idleRss = idle?.processes[WORKERD]?.rss_mb;
  if (warmRss !== undefined && idleRss !== undefined) {
    verdicts.push({
      check: `workerd RSS after idle within ${IDLE_BOUND_MB} MB of its post-warm-up level`,
      measured: `${warmRss} → ${idleRss} MB (${(idleRss - warmRss).toFixed(1)} MB)`,
      met: idleRss - warmRss <= IDLE_BOUND_MB,
    });
  }
  if (idle) {
    verdicts.push({
      check: "retention brings the disk back down (after idle < peak)",
      measured: `peak ${mb(result.disk_peak.bytes)} / ${n(result.disk_peak.files)} files → ${mb(idle.disk.bytes)} / ${n(idle.disk.files)} files`,
      met: idle.disk.bytes < result.disk_peak.bytes && idle.disk.files < result.disk_peak.files,
    });
  }
  const pruned = result.disk_after_prune;
  if (pruned && warm) {
    // What a restart of the edge (npm start) leaves: the one-page files of deleted objects are gone.
    verdicts.push({
      check: "after the start-up prune, the disk is at most its post-warm-up level",
      measured: `${mb(warm.disk.bytes)} / ${n(warm.disk.files)} files after the warm-up → ${mb(pruned.bytes)} / ${n(pruned.files)} files (${n(pruned.removed)} removed)`,
      met: pruned.bytes <= warm.disk.bytes && pruned.files <= warm.disk.files,
    });
  }
  return verdicts;
}

export function soakTables(result: SoakResult): string {
  const points = result.checkpoints;
  const headers = ["", ...points.map((c) => `${c.name} (${n(c.completed)} done, ${c.t_s} s)`)];
  const memoryRows = PROCESS_NAMES.map((name) => [
    name,
    ...points.map((c) => {
      const p = c.processes[name];
      return p ? `${p.rss_mb} MB (private ${p.private_mb ?? "?"}, PSS ${p.pss_mb ?? "?"})` : "n/a";
    }),
  ]);
  const workerdFds = [
    "workerd open fds",
    ...points.map((c) => {
      const total = c.processes[WORKERD]?.fds ?? 0;
      const pipelineDbs = Object.entries(c.workerd_fds)
        .filter(([kind]) => kind.startsWith("PipelineDO"))
        .reduce((sum, [, count]) => sum + count, 0);
      return `${total} (PipelineDO files ${pipelineDbs})`;
    }),
  ];
  const heapRows = result.options.heap
    ? [
        ["Worker isolate heap used", ...points.map((c) => (c.heap ? `${c.heap.used_mb} MB` : "n/a"))],
        ["  after a forced GC", ...points.map((c) => (c.heap_after_gc ? `${c.heap_after_gc.used_mb} MB` : "n/a"))],
      ]
    : [];
  const allocatorRows = result.options.allocator
    ? [
        [
          "workerd tcmalloc: in use / free held",
          ...points.map((c) => (c.allocator ? `${c.allocator.in_use_mb} / ${c.allocator.free_held_mb} MB` : "n/a")),
        ],
      ]
    : [];
  const diskRows = [
    ["state on disk", ...points.map((c) => `${mb(c.disk.bytes)}, ${n(c.disk.files)} files`)],
    [
      "  of which PipelineDO",
      ...points.map(
        (c) =>
          `${mb(c.disk.pipeline_do_bytes)}, ${n(c.disk.pipeline_do_files)} files (${n(c.disk.pipeline_do_live)} holding data)`,
      ),
    ],
    ["  R2 blobs (artifacts)", ...points.map((c) => n(c.disk.r2_blobs))],
  ];
  const warm = point(result, "warm");
  const end = point(result, "end");
  const idle = point(result, "idle");
  const collected = point(result, "idle, every isolate collected");
  const w = (c: Checkpoint | undefined) => c?.processes[WORKERD]?.rss_mb;
  const perPipeline =
    warm && end && w(warm) !== undefined && w(end) !== undefined && end.completed > warm.completed
      ? `${(((w(end)! - w(warm)!) * 1024) / (end.completed - warm.completed)).toFixed(1)} KB per pipeline (warm → end)`
      : "n/a";
  const summary = [
    [
      "pipelines",
      `${n(result.completed)} completed, ${result.error_count} errors${result.error_count > 0 ? ` (${JSON.stringify(result.errors)})` : ""}`,
    ],
    [
      "rate",
      `${n(result.pipelines_per_min)} /min over ${result.load_s} s at concurrency ${result.options.concurrency}`,
    ],
    ["workerd growth", perPipeline],
    [
      "workerd after idle vs warm",
      idle && warm && w(idle) !== undefined && w(warm) !== undefined ? `${(w(idle)! - w(warm)!).toFixed(1)} MB` : "n/a",
    ],
    ...(collected && warm && w(collected) !== undefined && w(warm) !== undefined
      ? [["  the same, every isolate collected", `${(w(collected)! - w(warm)!).toFixed(1)} MB`]]
      : []),
    ["disk peak", `${mb(result.disk_peak.bytes)}, ${n(result.disk_peak.files)} files`],
    [
      "cores over the load",
      `${Object.entries(result.cores)
        .map(([name, cores]) => `${name} ${cores}`)
        .join(
          "; ",
        )}; machine ${result.machine_busy_cores} (load avg ${result.loadavg_at_start[0]} → ${result.loadavg_at_end[0]})`,
    ],
  ];
  const verdicts = soakVerdicts(result).map((v) => [v.check, v.measured, v.met ? "met" : "NO"]);
  return [
    renderTable(headers, [...memoryRows, workerdFds, ...heapRows, ...allocatorRows, ...diskRows]),
    "",
    renderTable(["soak", ""], summary),
    "",
    renderTable(["check", "measured", ""], verdicts),
  ].join("\n");
}
