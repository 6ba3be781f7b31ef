import { z } from "zod";
import { ErrorCode } from "../errors.ts";
import { PipelineState, StageName } from "./common.ts";
import { ArtifactsSummary, ExportOutcome, StageTiming } from "./api.ts";
import { Verification, VerificationRound } from "./verification.ts";

/**
 * Events a pipeline sends its clients over WebSocket (`/ws/stream`, `/ws/pipelines/:id`) and SSE.
 * `seq` increases by one per event from 1; a client that reconnects with `after=SEQ` gets exactly
 * the events after SEQ. Clients ignore types they do not know.
 */
const base = { seq: z.number().int().positive(), pipeline_id: z.string() };

export const QueuedEvent = z.object({
  type: z.literal("queued"),
  ...base,
  priority: z.enum(["low", "normal", "high"]),
  position: z.number().int().nonnegative().nullable(),
});

export const StageEvent = z.object({
  type: z.literal("stage"),
  ...base,
  stage: StageName,
  status: z.enum(["started", "completed", "skipped", "retrying", "restarted", "failed"]),
  attempt: z.number().int().positive(),
  /** VERIFYING and REPAIRING: which round (0: the first answer's verification; N: the Nth repair). */
  round: z.number().int().nonnegative().optional(),
  duration_ms: z.number().nonnegative().optional(),
  reason: z.string().optional(),
});

/** The seed's chunk: `delta`, the running `content` (unless `stream_mode: "delta"`), `is_final`. */
export const ChunkEvent = z.object({
  type: z.literal("chunk"),
  ...base,
  delta: z.string(),
  content: z.string().optional(),
  is_final: z.boolean(),
});

/** What one VERIFYING run found: round 0 tests the first answer, round N the answer after N repairs. */
export const VerificationEvent = z.object({
  type: z.literal("verification"),
  ...base,
  round: VerificationRound,
});

export const ResultEvent = z.object({
  type: z.literal("result"),
  ...base,
  state: PipelineState,
  content: z.string(),
  artifacts: ArtifactsSummary.nullable(),
  export: ExportOutcome.nullable(),
  verified: z.boolean(),
  verification: Verification.nullable(),
  processing_time_ms: z.number().nonnegative(),
  stages: z.array(StageTiming),
});

/** The seed's error event, plus `code`. `seq` is absent for errors about a client's own frame. */
export const ErrorEvent = z.object({
  type: z.literal("error"),
  seq: z.number().int().positive().optional(),
  pipeline_id: z.string().optional(),
  error: z.string(),
  code: ErrorCode,
});

export const ClientEvent = z.discriminatedUnion("type", [
  QueuedEvent,
  StageEvent,
  ChunkEvent,
  VerificationEvent,
  ResultEvent,
  ErrorEvent,
]);
export type ClientEvent = z.infer<typeof ClientEvent>;
export type QueuedEvent = z.infer<typeof QueuedEvent>;
export type StageEvent = z.infer<typeof StageEvent>;
export type ChunkEvent = z.infer<typeof ChunkEvent>;
export type ResultEvent = z.infer<typeof ResultEvent>;
export type ErrorEvent = z.infer<typeof ErrorEvent>;
export type VerificationEvent = z.infer<typeof VerificationEvent>;

/** Messages a client may send on a pipeline socket after the first one. */
export const ClientCommand = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancel") }),
  z.object({ type: z.literal("ping") }),
]);
export type ClientCommand = z.infer<typeof ClientCommand>;
