import type {
  HealthResponse,
  MetricsResponse,
  StatusResponse,
  VerificationMetrics,
} from "../../../shared/src/index.ts";
import { VERSION } from "../../../shared/src/index.ts";
import { quantileMs } from "./histogram.ts";
import {
  executionHistogram,
  type ExecutionMetricOutcome,
  type MetricsSnapshot,
  type VerificationCount,
} from "./snapshot.ts";

/**
 * The bodies of `/health`, `/api/status` and `/api/metrics` from one snapshot of a pool: the
 * routes answer them, and the pool feed sends the same shapes to the dashboard.
 */

export function healthOf(
  snapshot: MetricsSnapshot,
  edge: { uptime_ms: number; auth: HealthResponse["auth"] },
): HealthResponse {
  const linked = snapshot.agents.filter((agent) => agent.connected);
  const healthyLlm = linked.find((agent) => agent.health.llm.status === "healthy");
  const llm: HealthResponse["llm_agent"] = healthyLlm
    ? "healthy"
    : linked.some((agent) => agent.health.llm.status === "unhealthy")
      ? "unhealthy"
      : "unavailable";
  return {
    status: llm === "healthy" ? "ok" : "degraded",
    llm_agent: llm,
    llm_provider: healthyLlm?.health.llm.provider ?? null,
    docker: linked.some((agent) => agent.health.docker.status === "available") ? "available" : "unavailable",
    uptime_ms: edge.uptime_ms,
    agents_connected: linked.length,
    sandbox_runtimes: [
      ...new Set(
        linked.flatMap((agent) =>
          agent.health.docker.status === "available" && agent.health.docker.runtime !== undefined
            ? [agent.health.docker.runtime]
            : [],
        ),
      ),
    ].sort(),
    auth: edge.auth,
    version: VERSION,
  };
}

export function statusOf(snapshot: MetricsSnapshot): StatusResponse {
  return {
    running: true,
    active_pipelines: snapshot.active_pipelines,
    queue_size: snapshot.queue_size,
    max_concurrent: snapshot.max_concurrent,
    max_queue_size: snapshot.max_queue_size,
    queue_by_priority: snapshot.queue_by_priority,
    tenants: snapshot.tenants,
    agents: snapshot.agents.map((agent) => ({
      agent_id: agent.agent_id,
      connected: agent.connected,
      draining: agent.draining,
      labels: agent.labels,
      capacity: agent.capacity,
      running: agent.running,
      llm: agent.health.llm.status,
      docker: agent.health.docker.status,
      sandbox_runtime: agent.health.docker.status === "available" ? (agent.health.docker.runtime ?? null) : null,
      connected_at: new Date(agent.connected_at).toISOString(),
      last_heartbeat_at: agent.last_heartbeat_at === null ? null : new Date(agent.last_heartbeat_at).toISOString(),
    })),
  };
}

export function metricsOf(snapshot: MetricsSnapshot): MetricsResponse {
  const completed = snapshot.histograms["pipeline_completed"];
  const runs = (outcome: ExecutionMetricOutcome) => snapshot.histograms[executionHistogram(outcome)];
  const ok = runs("ok");
  return {
    ...snapshot.counters,
    average_latency_ms: completed && completed.count > 0 ? (completed.sum / completed.count) * 1000 : 0,
    p50_latency_ms: completed ? quantileMs(completed, 0.5) : null,
    p99_latency_ms: completed ? quantileMs(completed, 0.99) : null,
    active_pipelines: snapshot.active_pipelines,
    queue_size: snapshot.queue_size,
    agents_connected: snapshot.agents.filter((agent) => agent.connected).length,
    jobs_running: snapshot.jobs_running,
    jobs_waiting: snapshot.jobs_waiting,
    executions: {
      ok: ok?.count ?? 0,
      failed: runs("failed")?.count ?? 0,
      timed_out: runs("timed_out")?.count ?? 0,
      cancelled: runs("cancelled")?.count ?? 0,
      failed_by_code: snapshot.execution_failures,
      average_duration_ms: ok && ok.count > 0 ? (ok.sum / ok.count) * 1000 : 0,
      p50_duration_ms: ok ? quantileMs(ok, 0.5) : null,
      p99_duration_ms: ok ? quantileMs(ok, 0.99) : null,
    },
    verification: verificationMetrics(snapshot.verifications),
  };
}

function verificationMetrics(counts: readonly VerificationCount[]): VerificationMetrics {
  const metrics: VerificationMetrics = {
    verified: 0,
    failed: 0,
    skipped: 0,
    repairs_used: 0,
    by_repairs: { passed: {}, failed: {}, skipped: {} },
  };
  for (const entry of counts) {
    if (entry.status === "passed") metrics.verified += entry.count;
    else metrics[entry.status] += entry.count;
    metrics.repairs_used += entry.repairs * entry.count;
    metrics.by_repairs[entry.status][String(entry.repairs)] = entry.count;
  }
  return metrics;
}
