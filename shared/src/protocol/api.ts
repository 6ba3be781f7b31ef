import { z } from "zod";
import { LIMITS } from "../limits.ts";
import { ErrorBody, ErrorCode } from "../errors.ts";
import {
  ArtifactFile,
  ExportTarget,
  Labels,
  PipelineState,
  PoolName,
  Priority,
  Requirements,
  StageName,
} from "./common.ts";
import { SandboxFile } from "./sandbox.ts";
import { utf8Length } from "../utf8.ts";
import { Verification } from "./verification.ts";
import { WebhookDelivery, WebhookUrl } from "./webhooks.ts";

function depthOf(value: unknown, depth = 0): number {
  if (value === null || typeof value !== "object") return depth;
  let max = depth + 1;
  for (const inner of Object.values(value)) max = Math.max(max, depthOf(inner, depth + 1));
  return max;
}

/** Characters a pinned test file may not hold: NUL and the C0 controls other than tab, newlines and form feed. */
// eslint-disable-next-line no-control-regex
const NOT_TEXT = /[\u0000-\u0008\u000e-\u001f]/;

/**
 * `metadata.tests`: test files the request brings. The model must satisfy them and cannot change
 * them; they are text, few and small, and bounded apart from the rest of the metadata.
 */
export const PinnedTests = z
  .array(
    SandboxFile.extend({
      content: z.string().refine((text) => !NOT_TEXT.test(text), "is not text: it holds NUL or control characters"),
    }).strict(),
  )
  .min(1)
  .max(LIMITS.pinnedTestMaxFiles, `metadata.tests holds more than ${LIMITS.pinnedTestMaxFiles} files`)
  .superRefine((files, ctx) => {
    let total = 0;
    const seen = new Set<string>();
    files.forEach((file, index) => {
      const bytes = utf8Length(file.content);
      total += bytes;
      if (bytes > LIMITS.pinnedTestMaxBytes) {
        ctx.addIssue({
          code: "custom",
          path: [index, "content"],
          message: `${file.path} is ${bytes} bytes; a pinned test file may hold at most ${LIMITS.pinnedTestMaxBytes}`,
        });
      }
      if (seen.has(file.path))
        ctx.addIssue({ code: "custom", path: [index, "path"], message: `${file.path} is listed twice` });
      seen.add(file.path);
    });
    if (total > LIMITS.pinnedTestsMaxBytes) {
      ctx.addIssue({
        code: "custom",
        message: `the pinned test files hold ${total} bytes; together they may hold at most ${LIMITS.pinnedTestsMaxBytes}`,
      });
    }
  });
export type PinnedTests = z.infer<typeof PinnedTests>;

/**
 * The seed's `metadata`: free-form, with the keys below understood by the pipeline. Bounded in
 * size and depth so one request cannot make the edge store or walk something huge.
 */
export const GenerateMetadata = z
  .looseObject({
    language: z.string().min(1).max(64).optional(),
    framework: z.string().min(1).max(64).optional(),
    stream: z.boolean().optional(),
    /** `delta` drops the running `content` from chunks, for large outputs. */
    stream_mode: z.enum(["content", "delta"]).optional(),
    /** Test the generated program in the sandbox and repair it (VERIFYING, REPAIRING). */
    verify: z.boolean().optional(),
    /** The older name of `verify`. */
    validate: z.boolean().optional(),
    /** Repair rounds after a failed verification (default 2; ATOMIC_MAX_REPAIRS caps it). */
    max_repairs: z
      .number({ error: "metadata.max_repairs must be a whole number" })
      .int("metadata.max_repairs must be a whole number")
      .min(0, "metadata.max_repairs must be 0 or more")
      .max(LIMITS.maxRepairs, `metadata.max_repairs may be at most ${LIMITS.maxRepairs}`)
      .optional(),
    /** Test files the model must satisfy and must not change. */
    tests: PinnedTests.optional(),
    /** The command that runs the tests (`sh -c` in the program's folder), instead of the language's default. */
    test_command: z
      .string()
      .trim()
      .min(1, "metadata.test_command must not be empty")
      .max(LIMITS.testCommandMaxChars, `metadata.test_command is longer than ${LIMITS.testCommandMaxChars} characters`)
      .optional(),
    export: ExportTarget.optional(),
    pool: PoolName.optional(),
    /** Only host-agents whose labels include all of these take the jobs. */
    labels: Labels.optional(),
    /** Where to POST a signed event when the pipeline ends (completed, failed or cancelled). */
    webhook: WebhookUrl.optional(),
  })
  .superRefine((metadata, ctx) => {
    // Pinned tests have limits of their own; the rest of the metadata is bounded here.
    const { tests: _tests, ...rest } = metadata;
    const bytes = utf8Length(JSON.stringify(rest));
    if (bytes > LIMITS.metadataMaxBytes) {
      ctx.addIssue({
        code: "custom",
        message: `metadata is ${bytes} bytes; the limit is ${LIMITS.metadataMaxBytes}`,
      });
    }
    const depth = depthOf(rest);
    if (depth > LIMITS.metadataMaxDepth) {
      ctx.addIssue({
        code: "custom",
        message: `metadata nests ${depth} levels deep; the limit is ${LIMITS.metadataMaxDepth}`,
      });
    }
  });
export type GenerateMetadata = z.infer<typeof GenerateMetadata>;

/** Body of `POST /api/generate`, and the first message on `/ws/stream`. */
export const GenerateRequest = z.object({
  prompt: z
    .string({ error: "prompt is required and must be a string" })
    .trim()
    .min(1, "prompt must not be empty")
    .max(LIMITS.promptMaxChars, `prompt is longer than ${LIMITS.promptMaxChars} characters`),
  metadata: GenerateMetadata.optional(),
  priority: Priority.optional(),
  /** Answer 202 at once instead of waiting for the pipeline (as `Prefer: respond-async` does). */
  async: z.boolean().optional(),
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export const StageTiming = z.object({
  stage: StageName,
  status: z.enum(["running", "completed", "failed", "skipped", "cancelled"]),
  attempts: z.number().int().nonnegative(),
  started_at: z.string().nullable(),
  duration_ms: z.number().nonnegative().nullable(),
  /** The host-agent that ran the stage's job (its last attempt), if it ran one. */
  agent_id: z.string().nullable(),
  /** VERIFYING and REPAIRING run in rounds: 0 is the first answer, N the answer after N repairs. */
  round: z.number().int().nonnegative().optional(),
});
export type StageTiming = z.infer<typeof StageTiming>;

/** What `artifacts` holds in responses: the manifest and where to fetch files and the bundle. */
export const ArtifactsSummary = z.object({
  files: z.array(ArtifactFile),
  count: z.number().int().nonnegative(),
  total_bytes: z.number().int().nonnegative(),
  manifest_url: z.string(),
  bundle_url: z.string(),
});
export type ArtifactsSummary = z.infer<typeof ArtifactsSummary>;

export const ArtifactManifest = z.object({
  pipeline_id: z.string(),
  /** True only when the files' tests ran in the sandbox and passed. */
  verified: z.boolean(),
  /** The verdict in full (rounds, test counts, what was skipped and why); null when not asked for. */
  verification: Verification.nullable(),
  files: z.array(ArtifactFile),
  total_bytes: z.number().int().nonnegative(),
  bundle: z.object({ format: z.literal("tar"), size: z.number().int().nonnegative(), sha256: z.string() }),
  created_at: z.string(),
});
export type ArtifactManifest = z.infer<typeof ArtifactManifest>;

export const ExportOutcome = z.object({
  type: z.enum(["filesystem", "git"]),
  path: z.string(),
  files: z.number().int().nonnegative(),
  commit: z.string().optional(),
  branch: z.string().optional(),
});
export type ExportOutcome = z.infer<typeof ExportOutcome>;

/** 200 answer of `POST /api/generate`: the seed's fields, plus `state` and `stages`. */
export const GenerateResponse = z.object({
  success: z.literal(true),
  request_id: z.string(),
  pipeline_id: z.string(),
  state: PipelineState,
  content: z.string(),
  artifacts: ArtifactsSummary.nullable(),
  processing_time_ms: z.number().nonnegative(),
  stages: z.array(StageTiming),
  requirements: Requirements.nullable(),
  /** True only when the pipeline's tests ran in the sandbox and passed. */
  verified: z.boolean(),
  /** The verdict, rounds and test counts of a pipeline that asked for verification; null otherwise. */
  verification: Verification.nullable(),
  export: ExportOutcome.nullable(),
});
export type GenerateResponse = z.infer<typeof GenerateResponse>;

export const PipelineLinks = z.object({
  self: z.string(),
  events_ws: z.string(),
  events_sse: z.string(),
  cancel: z.string(),
  artifacts: z.string(),
});
export type PipelineLinks = z.infer<typeof PipelineLinks>;

/** 202 answer of an asynchronous `POST /api/generate`. */
export const GenerateAccepted = z.object({
  success: z.literal(true),
  request_id: z.string(),
  pipeline_id: z.string(),
  state: PipelineState,
  links: PipelineLinks,
});
export type GenerateAccepted = z.infer<typeof GenerateAccepted>;

/** `GET /api/pipelines/:id`. */
export const PipelineView = z.object({
  pipeline_id: z.string(),
  request_id: z.string(),
  state: PipelineState,
  stage: StageName.nullable(),
  /** 0 to 1: the share of stages done. */
  progress: z.number().min(0).max(1),
  priority: Priority,
  pool: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  processing_time_ms: z.number().nonnegative().nullable(),
  stages: z.array(StageTiming),
  last_seq: z.number().int().nonnegative(),
  requirements: Requirements.nullable(),
  content_chars: z.number().int().nonnegative(),
  artifacts: ArtifactsSummary.nullable(),
  verified: z.boolean(),
  verification: Verification.nullable(),
  export: ExportOutcome.nullable(),
  error: ErrorBody.nullable(),
  links: PipelineLinks,
  /** The completion webhook and every delivery attempt; null when the pipeline has none. */
  webhook: WebhookDelivery.nullable(),
});
export type PipelineView = z.infer<typeof PipelineView>;

/** One row of `GET /api/pipelines`: enough to list a pipeline, not all of it. */
export const PipelineSummary = z.object({
  pipeline_id: z.string(),
  state: PipelineState,
  /** The stage running now; null once the pipeline ended. */
  stage: StageName.nullable(),
  priority: Priority,
  pool: z.string(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  /** From creation to the end; null while it runs. */
  duration_ms: z.number().nonnegative().nullable(),
  /** The first line of the prompt, at most 200 characters. */
  prompt: z.string(),
  /** True only when the pipeline's tests ran in the sandbox and passed. */
  verified: z.boolean(),
  /** The verdict of a pipeline that asked for verification, once it has one; null otherwise. */
  verification: z.enum(["passed", "failed", "skipped"]).nullable(),
});
export type PipelineSummary = z.infer<typeof PipelineSummary>;

/** `GET /api/pipelines`: newest first; `next_cursor` fetches the page after this one (null: none). */
export const PipelineList = z.object({
  pipelines: z.array(PipelineSummary),
  next_cursor: z.string().nullable(),
});
export type PipelineList = z.infer<typeof PipelineList>;

/** The most rows one page of `GET /api/pipelines` holds, and how many it holds unless asked. */
export const PIPELINE_LIST_LIMITS = { max: 100, default: 20 } as const;

export const CancelResponse = z.object({
  success: z.literal(true),
  request_id: z.string(),
  pipeline_id: z.string(),
  state: PipelineState,
});
export type CancelResponse = z.infer<typeof CancelResponse>;

/** `GET /health`: the seed's fields, plus the agents behind them. */
export const HealthResponse = z.object({
  status: z.enum(["ok", "degraded"]),
  llm_agent: z.enum(["healthy", "unhealthy", "unavailable"]),
  llm_provider: z.string().nullable(),
  docker: z.enum(["available", "unavailable"]),
  uptime_ms: z.number().int().nonnegative(),
  agents_connected: z.number().int().nonnegative(),
  /** The distinct sandbox runtimes (`runc`, `runsc`) of the linked host-agents whose Docker is available. */
  sandbox_runtimes: z.array(z.string()),
  auth: z.enum(["open", "api_keys"]),
  version: z.string(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

const Count = z.number().int().nonnegative();

/** `/api/execute` runs of the pool, in `GET /api/metrics`; the durations are those of `ok` runs. */
export const ExecutionMetrics = z.object({
  ok: Count,
  failed: Count,
  timed_out: Count,
  cancelled: Count,
  failed_by_code: z.partialRecord(ErrorCode, Count),
  average_duration_ms: z.number().nonnegative(),
  p50_duration_ms: z.number().nonnegative().nullable(),
  p99_duration_ms: z.number().nonnegative().nullable(),
});
export type ExecutionMetrics = z.infer<typeof ExecutionMetrics>;

/** Finished pipelines that asked for verification, in `GET /api/metrics`. */
export const VerificationMetrics = z.object({
  /** Verified: their tests ran in the sandbox and passed. */
  verified: Count,
  /** Ended with failing tests after every repair they were allowed. */
  failed: Count,
  /** Could not be verified (no runtime for the language, no tests found, no sandbox). */
  skipped: Count,
  /** Repair rounds used by all of them. */
  repairs_used: Count,
  /** How many ended each way after N repairs: `{"passed": {"0": 12, "1": 3}, "failed": {"2": 1}}`. */
  by_repairs: z.object({
    passed: z.record(z.string(), Count),
    failed: z.record(z.string(), Count),
    skipped: z.record(z.string(), Count),
  }),
});
export type VerificationMetrics = z.infer<typeof VerificationMetrics>;

/** `GET /api/metrics`: the seed's fields, plus more. */
export const MetricsResponse = z.object({
  total_requests: z.number().int().nonnegative(),
  successful_requests: z.number().int().nonnegative(),
  failed_requests: z.number().int().nonnegative(),
  cancelled_requests: z.number().int().nonnegative(),
  rejected_requests: z.number().int().nonnegative(),
  average_latency_ms: z.number().nonnegative(),
  p50_latency_ms: z.number().nonnegative().nullable(),
  p99_latency_ms: z.number().nonnegative().nullable(),
  active_pipelines: z.number().int().nonnegative(),
  queue_size: z.number().int().nonnegative(),
  agents_connected: z.number().int().nonnegative(),
  jobs_running: z.number().int().nonnegative(),
  jobs_waiting: z.number().int().nonnegative(),
  executions: ExecutionMetrics,
  verification: VerificationMetrics,
});
export type MetricsResponse = z.infer<typeof MetricsResponse>;

export const AgentSummary = z.object({
  agent_id: z.string(),
  connected: z.boolean(),
  draining: z.boolean(),
  labels: Labels,
  capacity: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  llm: z.string(),
  docker: z.string(),
  /** The runtime its sandbox containers run under (`runc`, `runsc`); null when it has no Docker or does not say. */
  sandbox_runtime: z.string().nullable(),
  /** When its current link opened (ISO 8601). */
  connected_at: z.string(),
  /** When the edge last heard its heartbeat (ISO 8601); null before the first since the edge started. */
  last_heartbeat_at: z.string().nullable(),
});
export type AgentSummary = z.infer<typeof AgentSummary>;

/** `GET /api/status`: the seed's fields, plus limits and agents. */
export const StatusResponse = z.object({
  running: z.boolean(),
  active_pipelines: z.number().int().nonnegative(),
  queue_size: z.number().int().nonnegative(),
  max_concurrent: z.number().int().positive(),
  max_queue_size: z.number().int().positive(),
  queue_by_priority: z.object({ high: z.number(), normal: z.number(), low: z.number() }),
  /**
   * Pipelines running and queued per API key, for every key with one: `owner` is the key's id as
   * the API names owners (never the key), null for pipelines made while the edge was open.
   */
  tenants: z.array(
    z.object({
      owner: z.string().nullable(),
      running: z.number().int().nonnegative(),
      queued: z.number().int().nonnegative(),
    }),
  ),
  agents: z.array(AgentSummary),
});
export type StatusResponse = z.infer<typeof StatusResponse>;
