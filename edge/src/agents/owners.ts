import type { JobEventBody } from "../../../shared/src/index.ts";
import type { EventAck, ResultAck } from "../pipeline/pipeline-do.ts";
import type { JobOutcome } from "../pipeline/stage.ts";
import type { JobOwner } from "../scheduler/jobs.ts";

/** What every owner of jobs (PipelineDO, ExecutionDO) answers to the agent link. */
export interface JobOwnerApi {
  jobEvent(jobId: string, attempt: number, seq: number, event: JobEventBody): Promise<EventAck>;
  jobResult(jobId: string, attempt: number, events: number, outcome: JobOutcome, agentId?: string): Promise<ResultAck>;
  jobLost(jobId: string, attempt: number, reason: string): Promise<void>;
  jobStatus(jobId: string, attempt: number): Promise<{ current: boolean; last_seq: number }>;
}

/** The Durable Object that owns a job. */
export function jobOwner(env: Env, owner: JobOwner): JobOwnerApi {
  const stub = owner.kind === "execution" ? env.EXECUTION.getByName(owner.id) : env.PIPELINE.getByName(owner.id);
  return {
    jobEvent: (jobId, attempt, seq, event) => stub.jobEvent(jobId, attempt, seq, event),
    jobResult: (jobId, attempt, events, outcome, agentId) => stub.jobResult(jobId, attempt, events, outcome, agentId),
    jobLost: (jobId, attempt, reason) => stub.jobLost(jobId, attempt, reason),
    jobStatus: (jobId, attempt) => stub.jobStatus(jobId, attempt),
  };
}

/** `pipeline:<id>` / `execution:<id>`: how the agent link stores an owner in one column. */
export function ownerKey(owner: JobOwner): string {
  return `${owner.kind}:${owner.id}`;
}

export function parseOwnerKey(key: string): JobOwner | null {
  const colon = key.indexOf(":");
  const kind = key.slice(0, colon);
  if (colon <= 0 || (kind !== "pipeline" && kind !== "execution")) return null;
  return { kind, id: key.slice(colon + 1) };
}
