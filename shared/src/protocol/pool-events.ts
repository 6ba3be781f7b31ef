import { z } from "zod";
import { HealthResponse, MetricsResponse, StatusResponse } from "./api.ts";
import { PipelineState } from "./common.ts";

/**
 * The live feed of one pool (`GET /ws/pool`), what the dashboard draws from: the pool's overview
 * whenever it changes (at most about once a second), and notices that pipelines the caller may see
 * were queued, started or finished, so a list re-reads `GET /api/pipelines` only when it changed.
 */

/** One slice of the recent past: how many pipelines ended in it, how, and how long they took. */
export const RecentBucket = z.object({
  /** When the slice began (ISO 8601); slices are `bucket_ms` long, oldest first. */
  start: z.string(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  /** Latency percentiles of the pipelines that completed in the slice; null when none did. */
  p50_ms: z.number().nonnegative().nullable(),
  p95_ms: z.number().nonnegative().nullable(),
  /** `/api/execute` runs answered in the slice. */
  executions: z.number().int().nonnegative(),
});
export type RecentBucket = z.infer<typeof RecentBucket>;

/** The last few minutes in equal slices, kept in the scheduler's memory (a restart starts it afresh). */
export const RecentMetrics = z.object({
  bucket_ms: z.number().int().positive(),
  buckets: z.array(RecentBucket),
});
export type RecentMetrics = z.infer<typeof RecentMetrics>;

export const PoolOverviewEvent = z.object({
  type: z.literal("overview"),
  /** When the scheduler took this overview (ISO 8601). */
  at: z.string(),
  health: HealthResponse,
  status: StatusResponse,
  metrics: MetricsResponse,
  recent: RecentMetrics,
});
export type PoolOverviewEvent = z.infer<typeof PoolOverviewEvent>;

export const PipelineChange = z.object({
  pipeline_id: z.string(),
  change: z.enum(["queued", "started", "finished"]),
  /** QUEUED when queued, the final state when finished, null when started (its stage is the pipeline's to tell). */
  state: PipelineState.nullable(),
});
export type PipelineChange = z.infer<typeof PipelineChange>;

/** The most changes one `pipelines` event carries; past it `more` is true and a list re-reads everything. */
export const POOL_CHANGES_MAX = 100;

export const PipelinesChangedEvent = z.object({
  type: z.literal("pipelines"),
  changes: z.array(PipelineChange).max(POOL_CHANGES_MAX),
  /** True when more changed than `changes` lists. */
  more: z.boolean(),
});
export type PipelinesChangedEvent = z.infer<typeof PipelinesChangedEvent>;

export const PoolEvent = z.discriminatedUnion("type", [PoolOverviewEvent, PipelinesChangedEvent]);
export type PoolEvent = z.infer<typeof PoolEvent>;
