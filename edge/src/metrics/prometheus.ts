import { StageName } from "../../../shared/src/index.ts";
import { LATENCY_BUCKETS_S } from "./histogram.ts";
import { pipelineHistogram, QUEUE_WAIT_HISTOGRAM, stageHistogram, type MetricsSnapshot } from "./snapshot.ts";

function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
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
      lines.push(`${name}_sum{${labels}} ${state.sum}`);
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
    "atomic_stage_duration_seconds",
    "Time spent in each stage.",
    "stage",
    StageName.options.map((stage): [string, string] => [stageHistogram(stage), stage]),
  );
  return `${lines.join("\n")}\n`;
}
