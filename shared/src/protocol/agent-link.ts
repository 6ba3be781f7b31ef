import { z } from "zod";
import { ErrorCode } from "../errors.ts";
import { LIMITS } from "../limits.ts";
import { ExportTarget, Labels, PoolName, Requirements } from "./common.ts";

/**
 * The agent link (DESIGN §6): one WebSocket per host-agent to `/agent/connect`. Every frame is a
 * JSON object `{v: 1, type, ...}`. Peers ignore types they do not know, so additive changes stay
 * readable by older peers; a frame that does not parse is answered with an `error` frame.
 */
export const LINK_VERSION = 1;
const v = z.literal(LINK_VERSION);

export const JobKind = z.enum([
  "llm.parse",
  "llm.generate",
  "llm.repair",
  "sandbox.execute",
  "sandbox.verify",
  "export",
]);
export type JobKind = z.infer<typeof JobKind>;

const JobId = z.string().min(1).max(128);
const Attempt = z.number().int().positive();

/** What a host-agent says about the things it depends on. */
export const AgentHealth = z.object({
  llm: z.object({
    status: z.enum(["healthy", "unhealthy", "unavailable"]),
    provider: z.string().max(64).optional(),
    model: z.string().max(256).optional(),
    detail: z.string().max(1024).optional(),
  }),
  docker: z.object({
    status: z.enum(["available", "unavailable"]),
    detail: z.string().max(1024).optional(),
    /** The container runtime its sandbox runs under (`runc`, `runsc`); absent from older host-agents. */
    runtime: z.string().max(64).optional(),
  }),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

// ---- payloads and results of each job kind ----

export const ParsePayload = z.object({
  prompt: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
export type ParsePayload = z.infer<typeof ParsePayload>;
export const ParseResult = Requirements.omit({ source: true });
export type ParseResult = z.infer<typeof ParseResult>;

export const GeneratePayload = z.object({
  prompt: z.string(),
  requirements: Requirements,
  metadata: z.record(z.string(), z.unknown()),
});
export type GeneratePayload = z.infer<typeof GeneratePayload>;
export const GenerateResult = z.object({
  /** Length of the whole text streamed in `token` events, so the edge can check it got all of it. */
  chars: z.number().int().nonnegative(),
  finish_reason: z.string().max(64),
  provider: z.string().max(64),
  model: z.string().max(256).optional(),
});
export type GenerateResult = z.infer<typeof GenerateResult>;

export const ExportFile = z.object({
  path: z.string().min(1).max(1024),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the host-agent downloads it: a path on the edge, fetched with the agent token. */
  url: z.string().min(1).max(4096),
});
export const ExportPayload = z.object({
  pipeline_id: z.string(),
  target: ExportTarget,
  files: z.array(ExportFile),
});
export type ExportPayload = z.infer<typeof ExportPayload>;
export const ExportResult = z.object({
  type: z.enum(["filesystem", "git"]),
  path: z.string(),
  files: z.number().int().nonnegative(),
  commit: z.string().optional(),
  branch: z.string().optional(),
});
export type ExportResult = z.infer<typeof ExportResult>;

/** The error of a failed job; `retryable` says whether the same job may succeed if tried again. */
export const JobError = z.object({
  code: ErrorCode,
  message: z.string().max(4096),
  retryable: z.boolean(),
});
export type JobError = z.infer<typeof JobError>;

/** One event of a running job: generated text, sandbox output, or a progress note. */
export const JobEventBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("token"), text: z.string().max(LIMITS.agentChunkMaxChars) }),
  z.object({
    kind: z.literal("output"),
    stream: z.enum(["stdout", "stderr"]),
    text: z.string().max(LIMITS.agentChunkMaxChars),
  }),
  z.object({ kind: z.literal("progress"), message: z.string().max(1024) }),
]);
export type JobEventBody = z.infer<typeof JobEventBody>;

// ---- agent → edge ----

export const Hello = z.object({
  v,
  type: z.literal("hello"),
  agent_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "agent ids are 1-64 of [A-Za-z0-9_.-]"),
  version: z.string().max(64),
  /** The SchedulerDO this agent serves; `default` unless ATOMIC_POOL names another. */
  pool: PoolName.default("default"),
  labels: Labels,
  capacity: z.object({
    /** Jobs it runs at once (ATOMIC_THREADS). */
    jobs: z.number().int().min(1).max(10_000),
    kinds: z.array(JobKind).min(1),
  }),
  running: z.array(z.object({ job_id: JobId, attempt: Attempt })).max(10_000),
  health: AgentHealth,
});
export type Hello = z.infer<typeof Hello>;

export const Heartbeat = z.object({
  v,
  type: z.literal("heartbeat"),
  health: AgentHealth,
  load: z.object({ running: z.number().int().nonnegative() }),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const JobAccepted = z.object({ v, type: z.literal("job.accepted"), job_id: JobId, attempt: Attempt });
export type JobAccepted = z.infer<typeof JobAccepted>;

/** The agent will not run a job it was given (draining, full, or a kind it lacks). */
export const JobRejected = z.object({
  v,
  type: z.literal("job.rejected"),
  job_id: JobId,
  attempt: Attempt,
  reason: z.string().max(1024),
});
export type JobRejected = z.infer<typeof JobRejected>;

export const JobEvent = z.object({
  v,
  type: z.literal("job.event"),
  job_id: JobId,
  attempt: Attempt,
  /** 1, 2, 3, … per (job_id, attempt): the edge stores each once, in this order. */
  seq: z.number().int().positive(),
  event: JobEventBody,
});
export type JobEvent = z.infer<typeof JobEvent>;

export const JobResult = z.object({
  v,
  type: z.literal("job.result"),
  job_id: JobId,
  attempt: Attempt,
  /** How many events the job sent; the edge waits for all of them before it takes the result. */
  events: z.number().int().nonnegative(),
  outcome: z.discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), result: z.unknown() }),
    z.object({ ok: z.literal(false), error: JobError }),
  ]),
});
export type JobResult = z.infer<typeof JobResult>;

export const Draining = z.object({ v, type: z.literal("draining") });
export type Draining = z.infer<typeof Draining>;

export const AgentToEdge = z.discriminatedUnion("type", [
  Hello,
  Heartbeat,
  JobAccepted,
  JobRejected,
  JobEvent,
  JobResult,
  Draining,
]);
export type AgentToEdge = z.infer<typeof AgentToEdge>;

// ---- edge → agent ----

export const Welcome = z.object({
  v,
  type: z.literal("welcome"),
  agent_id: z.string(),
  heartbeat_ms: z.number().int().positive(),
  /** Jobs from `hello.running` the edge no longer wants: stop them. */
  cancel: z.array(z.object({ job_id: JobId, attempt: Attempt })),
  /** Per (job_id, attempt) of `hello.running`: the highest event seq the edge has stored. */
  acked: z.array(z.object({ job_id: JobId, attempt: Attempt, seq: z.number().int().nonnegative() })),
});
export type Welcome = z.infer<typeof Welcome>;

export const JobAssign = z.object({
  v,
  type: z.literal("job.assign"),
  job_id: JobId,
  attempt: Attempt,
  pipeline_id: z.string().nullable(),
  kind: JobKind,
  payload: z.unknown(),
  /** Milliseconds the job may run before the edge gives up on it. */
  deadline_ms: z.number().int().positive(),
});
export type JobAssign = z.infer<typeof JobAssign>;

export const JobCancel = z.object({
  v,
  type: z.literal("job.cancel"),
  job_id: JobId,
  attempt: Attempt,
  reason: z.string().max(1024),
});
export type JobCancel = z.infer<typeof JobCancel>;

/**
 * The edge has stored every event of (job_id, attempt) up to and including `seq`, and the result
 * too when `result` is true: the agent may forget them.
 */
export const Ack = z.object({
  v,
  type: z.literal("ack"),
  job_id: JobId,
  attempt: Attempt,
  seq: z.number().int().nonnegative(),
  result: z.boolean(),
});
export type Ack = z.infer<typeof Ack>;

export const HeartbeatAck = z.object({ v, type: z.literal("heartbeat.ack"), at: z.number() });
export type HeartbeatAck = z.infer<typeof HeartbeatAck>;

/**
 * The edge could not use a frame the agent sent. When the frame was about a job (too large, or
 * of a shape the edge refuses), `job_id` and `attempt` name it: the agent then fails that job
 * instead of holding the frame it can never deliver. Older agents ignore the two fields.
 */
export const LinkError = z.object({
  v,
  type: z.literal("error"),
  code: ErrorCode,
  message: z.string(),
  job_id: JobId.optional(),
  attempt: Attempt.optional(),
});
export type LinkError = z.infer<typeof LinkError>;

export const EdgeToAgent = z.discriminatedUnion("type", [Welcome, JobAssign, JobCancel, Ack, HeartbeatAck, LinkError]);
export type EdgeToAgent = z.infer<typeof EdgeToAgent>;

/** Header that names the connecting agent, so the edge can route the upgrade before `hello`. */
export const AGENT_ID_HEADER = "X-Atomic-Agent-Id";
