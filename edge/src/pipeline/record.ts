import { z } from "zod";
import {
  ArtifactsSummary,
  ErrorBody,
  ExportOutcome,
  GenerateRequest,
  JobKind,
  PipelineState,
  Priority,
  Requirements,
  StageName,
  Verification,
  WebhookAttempt,
  WebhookEventType,
} from "../../../shared/src/index.ts";

export const StageRecord = z.object({
  stage: StageName,
  status: z.enum(["pending", "running", "completed", "failed", "skipped", "cancelled"]),
  attempts: z.number().int().nonnegative(),
  started_at: z.number().nullable(),
  duration_ms: z.number().nullable(),
  agent_id: z.string().nullable().default(null),
  /** VERIFYING and REPAIRING: 0 for the first answer's verification, N for the Nth repair and its check. */
  round: z.number().int().nonnegative().optional(),
});
export type StageRecord = z.infer<typeof StageRecord>;

/** The job a stage is waiting for. */
export const JobRef = z.object({
  job_id: z.string(),
  attempt: z.number().int().positive(),
  kind: JobKind,
  /** Highest event seq stored for this attempt: events at or below it are duplicates. */
  last_seq: z.number().int().nonnegative(),
  dispatched_at: z.number(),
});
export type JobRef = z.infer<typeof JobRef>;

/**
 * The pipeline's completion webhook: where it goes (the secret is looked up at each attempt, never
 * stored), the address links in it are made absolute against, and every delivery attempt so far.
 */
export const WebhookRecord = z.object({
  url: z.string(),
  origin: z.string().nullable(),
  status: z.enum(["pending", "delivered", "failed"]),
  delivery_id: z.string().nullable(),
  event: WebhookEventType.nullable(),
  attempts: z.array(WebhookAttempt),
  next_at: z.number().nullable(),
});
export type WebhookRecord = z.infer<typeof WebhookRecord>;

/** Everything a PipelineDO remembers about its pipeline, stored as one row. */
export const PipelineRecord = z.object({
  id: z.string(),
  request_id: z.string(),
  request: GenerateRequest,
  /** The id of the API key that made it (never the key); null when the edge had no keys. */
  owner: z.string().nullable().default(null),
  pool: z.string(),
  priority: Priority,
  state: PipelineState,
  created_at: z.number(),
  updated_at: z.number(),
  admitted_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  stages: z.array(StageRecord),
  stage_index: z.number().int(),
  /** Attempts of the current stage so far (1 on its first run). */
  stage_attempt: z.number().int().nonnegative(),
  /** Retries spent on the current stage's retryable failures. */
  stage_retries: z.number().int().nonnegative(),
  stage_deadline_at: z.number().nullable(),
  job: JobRef.nullable(),
  requirements: Requirements.nullable(),
  artifacts: ArtifactsSummary.nullable(),
  verification: Verification.nullable(),
  /** Pinned files the last repair tried to change: the next verification round records them. */
  rejected_changes: z.array(z.string()).default([]),
  export: ExportOutcome.nullable(),
  error: ErrorBody.nullable(),
  content_chars: z.number().int().nonnegative(),
  cleanup_at: z.number().nullable(),
  webhook: WebhookRecord.nullable().default(null),
});
export type PipelineRecord = z.infer<typeof PipelineRecord>;

/** A new pipeline's record, before it is queued: every stage its request runs, pending. */
export function newPipelineRecord(
  init: {
    id: string;
    request_id: string;
    request: GenerateRequest;
    owner: string | null;
    webhook?: { url: string; origin: string | null } | null;
  },
  stages: readonly StageName[],
  now: number,
): PipelineRecord {
  return {
    id: init.id,
    request_id: init.request_id,
    request: init.request,
    owner: init.owner,
    pool: init.request.metadata?.pool ?? "default",
    priority: init.request.priority ?? "normal",
    state: "IDLE",
    created_at: now,
    updated_at: now,
    admitted_at: null,
    finished_at: null,
    stages: stages.map((stage): StageRecord => ({
      stage,
      status: "pending",
      attempts: 0,
      started_at: null,
      duration_ms: null,
      agent_id: null,
      // VERIFYING's first round checks the first answer; later rounds are added as they come.
      ...(stage === "VERIFYING" ? { round: 0 } : {}),
    })),
    stage_index: -1,
    stage_attempt: 0,
    stage_retries: 0,
    stage_deadline_at: null,
    job: null,
    requirements: null,
    artifacts: null,
    verification: null,
    rejected_changes: [],
    export: null,
    error: null,
    content_chars: 0,
    cleanup_at: null,
    webhook: init.webhook
      ? {
          url: init.webhook.url,
          origin: init.webhook.origin,
          status: "pending",
          delivery_id: null,
          event: null,
          attempts: [],
          next_at: null,
        }
      : null,
  };
}
