import { Hono, type Context } from "hono";
import type {
  HealthResponse,
  MetricsResponse,
  StatusResponse,
  VerificationMetrics,
} from "../../../../shared/src/index.ts";
import { PoolName } from "../../../../shared/src/index.ts";
import { quantileMs } from "../../metrics/histogram.ts";
import { toPrometheus } from "../../metrics/prometheus.ts";
import {
  executionHistogram,
  type ExecutionMetricOutcome,
  type MetricsSnapshot,
  type VerificationCount,
} from "../../metrics/snapshot.ts";
import { VERSION } from "../../../../shared/src/index.ts";
import { uptimeMs, type AppEnv } from "../context.ts";
import { apiKeys } from "../client-auth.ts";
import { ApiError } from "../errors.ts";

export const observabilityRoutes = new Hono<AppEnv>();

async function snapshotOf(c: Context<AppEnv>): Promise<{ pool: string; snapshot: MetricsSnapshot }> {
  const raw = c.req.query("pool") ?? "default";
  const pool = PoolName.safeParse(raw);
  if (!pool.success) throw new ApiError("invalid_request", `pool: ${pool.error.issues[0]?.message ?? "invalid"}`);
  return { pool: pool.data, snapshot: await c.env.SCHEDULER.getByName(pool.data).snapshot() };
}

/** `GET /health`: the seed's shape, with the state of the linked host-agents behind it. */
observabilityRoutes.get("/health", async (c) => {
  const { snapshot } = await snapshotOf(c);
  const linked = snapshot.agents.filter((agent) => agent.connected);
  const healthyLlm = linked.find((agent) => agent.health.llm.status === "healthy");
  const llm: HealthResponse["llm_agent"] = healthyLlm
    ? "healthy"
    : linked.some((agent) => agent.health.llm.status === "unhealthy")
      ? "unhealthy"
      : "unavailable";
  const body: HealthResponse = {
    status: llm === "healthy" ? "ok" : "degraded",
    llm_agent: llm,
    llm_provider: healthyLlm?.health.llm.provider ?? null,
    docker: linked.some((agent) => agent.health.docker.status === "available") ? "available" : "unavailable",
    uptime_ms: uptimeMs(),
    agents_connected: linked.length,
    auth:
      apiKeys(c.get("config").ATOMIC_API_KEYS).length + apiKeys(c.get("config").ATOMIC_OPERATOR_KEYS).length > 0
        ? "api_keys"
        : "open",
    version: VERSION,
  };
  return c.json(body);
});

/** `GET /api/metrics`: the seed's shape, and more. */
observabilityRoutes.get("/api/metrics", async (c) => {
  const { snapshot } = await snapshotOf(c);
  const completed = snapshot.histograms["pipeline_completed"];
  const runs = (outcome: ExecutionMetricOutcome) => snapshot.histograms[executionHistogram(outcome)];
  const ok = runs("ok");
  const body: MetricsResponse = {
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
  return c.json(body);
});

/** `GET /api/status`: the seed's shape, plus limits and agents. */
observabilityRoutes.get("/api/status", async (c) => {
  const { snapshot } = await snapshotOf(c);
  const body: StatusResponse = {
    running: true,
    active_pipelines: snapshot.active_pipelines,
    queue_size: snapshot.queue_size,
    max_concurrent: snapshot.max_concurrent,
    max_queue_size: snapshot.max_queue_size,
    queue_by_priority: snapshot.queue_by_priority,
    agents: snapshot.agents.map((agent) => ({
      agent_id: agent.agent_id,
      connected: agent.connected,
      draining: agent.draining,
      labels: agent.labels,
      capacity: agent.capacity,
      running: agent.running,
      llm: agent.health.llm.status,
      docker: agent.health.docker.status,
    })),
  };
  return c.json(body);
});

/** `GET /metrics`: Prometheus text format, latency histograms in seconds. */
observabilityRoutes.get("/metrics", async (c) => {
  const { pool, snapshot } = await snapshotOf(c);
  return c.body(toPrometheus(snapshot, pool, uptimeMs()), 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
  });
});

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
