import { z } from "zod";
import { JobKind, Labels, LIMITS, Priority } from "../../../shared/src/index.ts";

/**
 * The most a job's payload may take, as UTF-8 JSON: it travels in one agent-link frame, whose own
 * fields (the envelope) need the rest. A stage with a larger payload says so instead of sending it.
 */
export const JOB_PAYLOAD_MAX_BYTES = LIMITS.agentFrameMaxBytes - 16_384;

/** Who waits for a job's events and result: a pipeline, or an `/api/execute` execution. */
export const JobOwner = z.object({ kind: z.enum(["pipeline", "execution"]), id: z.string() });
export type JobOwner = z.infer<typeof JobOwner>;

/** One attempt of one job: how every party names it. */
export interface JobRef {
  job_id: string;
  attempt: number;
}

/**
 * A job an owner asks the scheduler to place on a host-agent. Stored by the scheduler while it
 * waits for an agent, so it is a schema: what is read back is parsed, not trusted.
 */
export const JobSpec = z.object({
  job_id: z.string(),
  attempt: z.number().int().positive(),
  owner: JobOwner,
  /** Sent to the agent for its logs; null for executions. */
  pipeline_id: z.string().nullable(),
  kind: JobKind,
  payload: z.unknown(),
  labels: Labels,
  priority: Priority,
  /** How long the job may run once placed. */
  deadline_ms: z.number(),
  /** `wait`: queue until an agent can take it (up to `wait_ms`); `if-available`: now or never. */
  mode: z.enum(["wait", "if-available"]),
  wait_ms: z.number(),
});
export type JobSpec = z.infer<typeof JobSpec>;
