import type { ErrorBody, JobEventBody } from "../../../shared/src/index.ts";
import type { JobOwner, JobRef } from "./job.ts";
import type { EventAck, JobOutcome, JobStatus, ResultAck } from "./outcome.ts";

/**
 * What every owner of jobs (PipelineDO, ExecutionDO) answers: the agent link reports what the
 * host-agent said, and the scheduler reports a job no agent took.
 */
export interface JobOwnerApi {
  jobEvent(job: JobRef, seq: number, event: JobEventBody): Promise<EventAck>;
  jobResult(job: JobRef, events: number, outcome: JobOutcome, agentId: string): Promise<ResultAck>;
  /** The agent running the job is gone for good (or refused it): the owner may run it again. */
  jobLost(job: JobRef, reason: string): Promise<void>;
  /** No agent took the waiting job before its wait ran out. */
  jobUnplaced(job: JobRef, error: ErrorBody): Promise<void>;
  jobStatus(job: JobRef): Promise<JobStatus>;
}

/** The Durable Object that owns a job. */
export function jobOwner(env: Env, owner: JobOwner): JobOwnerApi {
  return owner.kind === "execution" ? env.EXECUTION.getByName(owner.id) : env.PIPELINE.getByName(owner.id);
}

/** `pipeline:<id>` / `execution:<id>`: an owner in one column. */
export function ownerKey(owner: JobOwner): string {
  return `${owner.kind}:${owner.id}`;
}

export function parseOwnerKey(key: string): JobOwner | null {
  const colon = key.indexOf(":");
  const kind = key.slice(0, colon);
  if (colon <= 0 || (kind !== "pipeline" && kind !== "execution")) return null;
  return { kind, id: key.slice(colon + 1) };
}
