import { Hono, type Context } from "hono";
import { PoolName } from "../../../../shared/src/index.ts";
import { toPrometheus } from "../../metrics/prometheus.ts";
import type { MetricsSnapshot } from "../../metrics/snapshot.ts";
import { healthOf, metricsOf, statusOf } from "../../metrics/views.ts";
import type { AppEnv } from "../context.ts";
import { authMode } from "../../access/api-keys.ts";
import { uptimeMs } from "../../metrics/uptime.ts";
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
  return c.json(healthOf(snapshot, { uptime_ms: uptimeMs(), auth: authMode(c.get("config")) }));
});

/** `GET /api/metrics`: the seed's shape, and more. */
observabilityRoutes.get("/api/metrics", async (c) => {
  const { snapshot } = await snapshotOf(c);
  return c.json(metricsOf(snapshot));
});

/** `GET /api/status`: the seed's shape, plus limits and agents. */
observabilityRoutes.get("/api/status", async (c) => {
  const { snapshot } = await snapshotOf(c);
  return c.json(statusOf(snapshot));
});

/** `GET /metrics`: Prometheus text format, latency histograms in seconds. */
observabilityRoutes.get("/metrics", async (c) => {
  const { pool, snapshot } = await snapshotOf(c);
  return c.body(toPrometheus(snapshot, pool, uptimeMs()), 200, {
    "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
  });
});
