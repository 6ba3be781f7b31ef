/**
 * The shape of bench/results/latest.json and the verdict on each promise of the seed and target
 * of DESIGN §11. Names carry their unit: `_ms`, `_s`, `_mb`, `_per_min`, `_cores`.
 */
import type { AgentLoadResult } from "./agent-load.ts";
import type { FanOutLevel } from "./fanout.ts";
import type { GenerateLatencyResult, SequentialResult } from "./latency.ts";
import type { MachineInfo } from "./machine.ts";
import type { SectionUsage } from "./monitor.ts";
import type { SandboxResult } from "./sandbox.ts";
import type { VerificationResult } from "./verification.ts";
import type { TargetRow } from "./speed-targets.ts";
import type { StreamsResult } from "./streams.ts";
import type { ThroughputResult } from "./throughput.ts";

/** A section that could not run says why. */
export type Outcome<T> = T | { skipped: string } | { failed: string };

export interface MemoryFigures {
  /** Every process's peak resident memory over the run: sampled every 250 ms, and the kernel's VmHWM. */
  processes: Array<{ name: string; sampled_peak_rss_mb: number; vm_hwm_mb: number }>;
  /** host-agent main's highest sampled RSS in the section with the most jobs running at once. */
  host_agent_at_load: { section: string; max_jobs_running: number; peak_rss_mb: number } | null;
  /** A host-agent with many jobs at once (its own Python agent, slow chunks): jobs and memory sampled together. */
  host_agent_under_jobs: AgentLoadResult | null;
  /** Resident memory of each process right after the stack came up, before any load. */
  idle_rss_mb: Record<string, number>;
  /**
   * workerd (the runtime, not wrangler's dev proxy) + host-agent main + python main: their peaks
   * added, an upper bound of their peak together.
   */
  stack_peak_sum_mb: number;
  /** Pipelines the default pool took during the run (its total_requests), and workerd's growth per pipeline. */
  pipelines_created: number | null;
  workerd_growth_kb_per_pipeline: number | null;
  /** The edge's local state on disk at the end (Durable Object SQLite files, R2 objects). */
  edge_state_files: number;
  edge_state_mb: number;
}

export interface BenchResults {
  schema: "atomic-bench/1";
  quick: boolean;
  units: Record<string, string>;
  machine: MachineInfo;
  settings: { edge_vars: Record<string, string>; host_agent_env: Record<string, string>; prompt: string };
  duration_s: number;
  floor: Outcome<
    SequentialResult & {
      requests: number;
      without_dev_proxy: SequentialResult | null;
      /** A 404 route, which asks no Durable Object. */
      no_durable_object: SequentialResult;
    }
  >;
  generate: Outcome<
    GenerateLatencyResult & {
      requests: number;
      ratio_p50_to_floor: number;
      overhead_p50_ms: number;
      overhead_p99_ms: number;
      llm_side: SequentialResult;
      without_dev_proxy: SequentialResult | null;
    }
  >;
  throughput: Outcome<Array<ThroughputResult & { workerd_cpu_ms_per_pipeline: number }>>;
  streams: Outcome<StreamsResult>;
  fan_out: Outcome<FanOutLevel[]>;
  sandbox: Outcome<SandboxResult>;
  verification: Outcome<VerificationResult>;
  scale_out: Outcome<Array<ThroughputResult & { host_agents: number; workerd_cpu_ms_per_pipeline: number }>>;
  memory: MemoryFigures;
  /** CPU and memory of each process in each section. */
  sections: SectionUsage[];
  /** Lines workerd logged at error level during the run, by message (wrangler prints them). */
  edge_runtime_errors: Record<string, number>;
  verdicts: Verdict[];
  /** With `--baseline REF`: the speed targets against that commit's bench, run just before. */
  against_baseline?: { ref: string; commit: string; targets: TargetRow[] };
}

export interface Verdict {
  figure: string;
  measured: string;
  seed: string;
  target: string;
  /** Against DESIGN §11's target (null: no target, or not measured). */
  target_met: boolean | null;
  /** Against the seed's promise (null: no promise). */
  seed_met: boolean | null;
}

export function ok<T extends object>(outcome: Outcome<T>): T | null {
  return "skipped" in outcome || "failed" in outcome ? null : outcome;
}

function fmt(value: number | undefined, unit = ""): string {
  if (value === undefined || !Number.isFinite(value)) return "n/a";
  const rounded = Math.abs(value) < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${rounded.toLocaleString("en-US")}${unit}`;
}

export function judge(results: Omit<BenchResults, "verdicts">): Verdict[] {
  const verdicts: Verdict[] = [];
  const generate = ok(results.generate);
  verdicts.push({
    figure: "POST /api/generate latency (sequential)",
    measured: generate
      ? `p50 ${fmt(generate.latency_ms.p50)} ms, p99 ${fmt(generate.latency_ms.p99)} ms`
      : "not measured",
    seed: "< 100 ms",
    target: "",
    target_met: null,
    seed_met: generate ? generate.latency_ms.p50 < 100 : null,
  });
  verdicts.push({
    figure: "orchestration overhead (generate minus /health floor)",
    measured: generate
      ? `p50 ${fmt(generate.overhead_p50_ms)} ms, p99 ${fmt(generate.overhead_p99_ms)} ms`
      : "not measured",
    seed: "",
    target: "p50 ≤ 10 ms, p99 ≤ 40 ms",
    target_met: generate ? generate.overhead_p50_ms <= 10 && generate.overhead_p99_ms <= 40 : null,
    seed_met: null,
  });
  const levels = ok(results.throughput);
  const best = levels?.reduce<ThroughputResult | null>(
    (top, level) => (top === null || level.pipelines_per_min > top.pipelines_per_min ? level : top),
    null,
  );
  verdicts.push({
    figure: "throughput (best level)",
    measured: best ? `${fmt(best.pipelines_per_min)} pipelines/min at concurrency ${best.concurrency}` : "not measured",
    seed: "100+ req/min",
    target: "≥ 6,000 pipelines/min on 2 cores",
    target_met: best ? best.pipelines_per_min >= 6000 : null,
    seed_met: best ? best.pipelines_per_min >= 100 : null,
  });
  const streams = ok(results.streams);
  const streamErrors = streams ? Object.values(streams.errors).reduce((a, b) => a + b, 0) : 0;
  verdicts.push({
    figure: "concurrent streaming pipelines (WebSocket)",
    measured: streams
      ? `${streams.completed}/${streams.sockets} completed, ${streamErrors} errors, ${streams.max_open} sockets open at once`
      : "not measured",
    seed: "10+ concurrent",
    target: "1,000 streaming pipelines, no errors",
    target_met: streams
      ? streams.sockets >= 1000 &&
        streams.completed === streams.sockets &&
        streamErrors === 0 &&
        streams.max_open >= streams.sockets
      : null,
    seed_met: streams ? streams.completed >= 10 && streams.max_open >= 10 : null,
  });
  const memory = results.memory;
  // Whichever measurement saw the most jobs on one host-agent at once.
  const underJobs = memory.host_agent_under_jobs;
  const candidates = [
    memory.host_agent_at_load,
    underJobs ? { peak_rss_mb: underJobs.peak_rss_mb, max_jobs_running: underJobs.max_jobs_running } : null,
  ].filter((c): c is { peak_rss_mb: number; max_jobs_running: number } => c !== null);
  const atLoad = candidates.reduce<{ peak_rss_mb: number; max_jobs_running: number } | null>(
    (top, c) => (top === null || c.max_jobs_running > top.max_jobs_running ? c : top),
    null,
  );
  verdicts.push({
    figure: "memory",
    measured:
      `host-agent ${atLoad ? `${fmt(atLoad.peak_rss_mb)} MB with up to ${atLoad.max_jobs_running} jobs at once` : "n/a"}; ` +
      `workerd + host-agent + Python peaks ${fmt(memory.stack_peak_sum_mb)} MB`,
    seed: "< 500 MB",
    target: "host-agent ≤ 100 MB RSS at 100 concurrent jobs",
    target_met: atLoad && atLoad.max_jobs_running >= 100 ? atLoad.peak_rss_mb <= 100 : null,
    seed_met: memory.stack_peak_sum_mb > 0 ? memory.stack_peak_sum_mb < 500 : null,
  });
  const sandbox = ok(results.sandbox);
  verdicts.push({
    figure: "container start: print(1) via /api/execute",
    measured: sandbox
      ? `warm p50 ${fmt(sandbox.warm_ms.p50)} ms, cold p50 ${fmt(sandbox.cold_ms.p50)} ms, docker run p50 ${fmt(sandbox.docker_run_ms.p50)} ms (${fmt(sandbox.docker_run_over_warm)}× the warm run)`
      : "not measured",
    seed: "< 2 s",
    target: "warm p50 ≤ 60 ms, ≥ 4× faster than docker run --rm",
    target_met: sandbox ? sandbox.warm_ms.p50 <= 60 && sandbox.docker_run_over_warm >= 4 : null,
    seed_met: sandbox ? sandbox.cold_ms.p50 < 2000 && sandbox.warm_ms.p50 < 2000 : null,
  });
  const fan = ok(results.fan_out);
  // The largest level as served (through the edge's URL); the direct run is reported beside it.
  const served = fan?.filter((level) => level.via === "wrangler dev proxy") ?? [];
  const biggest = served.reduce<FanOutLevel | null>(
    (top, level) => (top === null || level.subscribers > top.subscribers ? level : top),
    null,
  );
  const direct = fan?.find((level) => level.via === "runtime directly" && level.subscribers === biggest?.subscribers);
  verdicts.push({
    figure: "fan-out to subscribers of one pipeline",
    measured: biggest
      ? `${biggest.subscribers} subscribers: ${biggest.got_every_event} got every event; delivery p50 ${fmt(biggest.delivery_ms.p50)} ms, p99 ${fmt(biggest.delivery_ms.p99)} ms` +
        (direct ? `; without wrangler's proxy p99 ${fmt(direct.delivery_ms.p99)} ms` : "") +
        (biggest.client_floor
          ? `; same client on a bare ws server p99 ${fmt(biggest.client_floor.delivery_ms.p99)} ms`
          : "")
      : "not measured",
    seed: "",
    target: "1,000 subscribers, p99 token delivery ≤ 50 ms",
    target_met: biggest
      ? biggest.subscribers >= 1000 && biggest.got_every_event === biggest.subscribers && biggest.delivery_ms.p99 <= 50
      : null,
    seed_met: null,
  });
  return verdicts;
}
