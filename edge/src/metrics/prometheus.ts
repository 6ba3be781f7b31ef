import { StageName } from "../../../shared/src/index.ts";
import { LATENCY_BUCKETS_S } from "./histogram.ts";
import {
  EXECUTION_OUTCOMES,
  executionHistogram,
  pipelineHistogram,
  QUEUE_WAIT_HISTOGRAM,
  stageHistogram,
  type MetricsSnapshot,
} from "./snapshot.ts";

function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * A sum of seconds as Prometheus reads it, to the microsecond: the observations are whole
 * milliseconds, and adding their binary fractions prints noise like 0.027000000000000003.
 */
function seconds(sum: number): string {
  return String(Math.round(sum * 1e6) / 1e6);
}

/** The Prometheus text exposition format (version 0.0.4) of one pool's metrics. */
export function toPrometheus(snapshot: MetricsSnapshot, pool: string, uptimeMs: number): string {
  const lines: string[] = [];
  const p = `pool="${labelValue(pool)}"`;
  const gauge = (name: string, help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${p}} ${value}`);
  };
  lines.push("# HELP atomic_pipelines_total Pipelines by outcome.", "# TYPE atomic_pipelines_total counter");
  const c = snapshot.counters;
  lines.push(`atomic_pipelines_total{${p},outcome="accepted"} ${c.total_requests}`);
  lines.push(`atomic_pipelines_total{${p},outcome="completed"} ${c.successful_requests}`);
  lines.push(`atomic_pipelines_total{${p},outcome="failed"} ${c.failed_requests}`);
  lines.push(`atomic_pipelines_total{${p},outcome="cancelled"} ${c.cancelled_requests}`);
  lines.push(`atomic_pipelines_total{${p},outcome="rejected"} ${c.rejected_requests}`);
  lines.push("# HELP atomic_executions_total /api/execute runs by outcome; failed ones by error code.");
  lines.push("# TYPE atomic_executions_total counter");
  for (const outcome of EXECUTION_OUTCOMES.filter((o) => o !== "failed")) {
    lines.push(
      `atomic_executions_total{${p},outcome="${outcome}"} ${snapshot.histograms[executionHistogram(outcome)]?.count ?? 0}`,
    );
  }
  for (const [code, count] of Object.entries(snapshot.execution_failures)) {
    lines.push(`atomic_executions_total{${p},outcome="failed",code="${labelValue(code)}"} ${count}`);
  }
  if (snapshot.verifications.length > 0) {
    lines.push(
      "# HELP atomic_verifications_total Verified pipelines by verdict (passed, failed, skipped) and repair rounds used.",
      "# TYPE atomic_verifications_total counter",
    );
    for (const entry of snapshot.verifications) {
      lines.push(`atomic_verifications_total{${p},status="${entry.status}",repairs="${entry.repairs}"} ${entry.count}`);
    }
    const rounds = snapshot.verifications.reduce((sum, entry) => sum + entry.repairs * entry.count, 0);
    lines.push(
      "# HELP atomic_verification_repairs_total Repair rounds used by verified pipelines.",
      "# TYPE atomic_verification_repairs_total counter",
      `atomic_verification_repairs_total{${p}} ${rounds}`,
    );
  }
  gauge("atomic_active_pipelines", "Pipelines holding a running slot.", snapshot.active_pipelines);
  gauge("atomic_queue_size", "Pipelines waiting for a running slot.", snapshot.queue_size);
  gauge("atomic_jobs_running", "Jobs placed on host-agents.", snapshot.jobs_running);
  gauge("atomic_jobs_waiting", "Jobs waiting for a host-agent.", snapshot.jobs_waiting);
  gauge("atomic_agents_connected", "Host-agents linked now.", snapshot.agents.filter((a) => a.connected).length);
  gauge("atomic_uptime_seconds", "Seconds since this edge isolate started.", uptimeMs / 1000);

  const histogram = (name: string, help: string, label: string, keys: Array<[string, string]>) => {
    const present = keys.filter(([key]) => snapshot.histograms[key]);
    if (present.length === 0) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [key, value] of present) {
      const state = snapshot.histograms[key]!;
      const labels = `${p},${label}="${labelValue(value)}"`;
      let cumulative = 0;
      LATENCY_BUCKETS_S.forEach((bound, i) => {
        cumulative += state.counts[i] ?? 0;
        lines.push(`${name}_bucket{${labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`${name}_bucket{${labels},le="+Inf"} ${state.count}`);
      lines.push(`${name}_sum{${labels}} ${seconds(state.sum)}`);
      lines.push(`${name}_count{${labels}} ${state.count}`);
    }
  };
  histogram("atomic_pipeline_duration_seconds", "Time from request to final state.", "outcome", [
    [pipelineHistogram("COMPLETED"), "completed"],
    [pipelineHistogram("FAILED"), "failed"],
    [pipelineHistogram("CANCELLED"), "cancelled"],
  ]);
  histogram("atomic_queue_wait_seconds", "Time a pipeline waited for a running slot.", "queue", [
    [QUEUE_WAIT_HISTOGRAM, "admission"],
  ]);
  histogram(
    "atomic_execution_duration_seconds",
    "Time from an /api/execute request to its answer.",
    "outcome",
    EXECUTION_OUTCOMES.map((outcome): [string, string] => [executionHistogram(outcome), outcome]),
  );
  histogram(
    "atomic_stage_duration_seconds",
    "Time spent in each stage.",
    "stage",
    StageName.options.map((stage): [string, string] => [stageHistogram(stage), stage]),
  );
  return `${lines.join("\n")}\n`;
}
