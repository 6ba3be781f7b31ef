import { DurableObject } from "cloudflare:workers";
import type { ErrorBody, ExecuteRequest, ExecuteResult, JobEventBody } from "../../../shared/src/index.ts";
import { ExecuteResult as ExecuteResultSchema } from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import type { JobRef } from "../jobs/job.ts";
import { trackedStatus, trackEvent, trackResult, type TrackedJob } from "../jobs/job-tracker.ts";
import type { EventAck, JobOutcome, JobStatus, ResultAck } from "../jobs/outcome.ts";
import type { JobOwnerApi } from "../jobs/owner.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";

export type ExecutionOutcome = { ok: true; result: ExecuteResult } | { ok: false; error: ErrorBody };

/** How long a sandbox job may take beyond its own timeout (container start, output transfer). */
const DEADLINE_SLACK_MS = 30_000;

interface Run extends TrackedJob {
  execution_id: string;
  request: ExecuteRequest;
  pool: string;
  finish: (outcome: ExecutionOutcome) => void;
}

/**
 * `POST /api/execute` runs (DESIGN §3): each places a `sandbox.execute` job on a host-agent with
 * Docker and waits for its result. This object owns those jobs as a PipelineDO owns its stage
 * jobs: it takes the agents' events and results, and runs a job again with `attempt + 1` when its
 * agent is lost. Nothing here outlives its request, so the runs stay in memory.
 */
export class ExecutionDO extends DurableObject<Env> implements JobOwnerApi {
  #config: EdgeConfig;
  #log: EdgeLogger;
  /** Runs by job id (`execute/<execution id>`). */
  #runs = new Map<string, Run>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#log = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "execution", shard: ctx.id.name });
  }

  async run(executionId: string, request: ExecuteRequest, pool: string): Promise<ExecutionOutcome> {
    const jobId = `execute/${executionId}`;
    if (this.#runs.has(jobId)) {
      return { ok: false, error: { code: "conflict", message: `execution ${executionId} already runs` } };
    }
    const done = new Promise<ExecutionOutcome>((finish) => {
      this.#runs.set(jobId, {
        job_id: jobId,
        execution_id: executionId,
        request,
        pool,
        attempt: 1,
        last_seq: 0,
        finish,
      });
    });
    await this.#place(jobId);
    return done;
  }

  async #place(jobId: string): Promise<void> {
    const run = this.#runs.get(jobId);
    if (!run) return;
    const timeoutSeconds = run.request.limits?.timeout_seconds ?? 300;
    const placed = await this.env.SCHEDULER.getByName(run.pool).placeJob({
      job_id: jobId,
      attempt: run.attempt,
      owner: { kind: "execution", id: this.ctx.id.name ?? "unnamed" },
      pipeline_id: null,
      kind: "sandbox.execute",
      payload: run.request,
      labels: {},
      priority: "high",
      deadline_ms: Math.ceil(timeoutSeconds * 1000) + DEADLINE_SLACK_MS,
      mode: "wait",
      wait_ms: this.#config.ATOMIC_AGENT_WAIT_MS,
    });
    if (placed.status === "unavailable") {
      this.#end(jobId, {
        ok: false,
        error: { code: "sandbox_unavailable", message: "no host-agent with a Docker sandbox is linked" },
      });
    }
  }

  async jobEvent(job: JobRef, seq: number, _event: JobEventBody): Promise<EventAck> {
    return trackEvent(this.#runs.get(job.job_id), job, seq);
  }

  async jobResult(job: JobRef, events: number, outcome: JobOutcome): Promise<ResultAck> {
    const tracked = trackResult(this.#runs.get(job.job_id), job, events);
    if (tracked.status === "stale") return { status: "stale", last_seq: 0 };
    if (tracked.status === "missing_events") return tracked;
    if (!outcome.ok) {
      this.#end(job.job_id, { ok: false, error: { code: outcome.error.code, message: outcome.error.message } });
    } else {
      const result = ExecuteResultSchema.safeParse(outcome.result);
      this.#end(
        job.job_id,
        result.success
          ? { ok: true, result: result.data }
          : {
              ok: false,
              error: { code: "sandbox_error", message: "the host-agent answered an invalid sandbox result" },
            },
      );
    }
    return { status: "stored", last_seq: tracked.job.last_seq };
  }

  async jobUnplaced(job: JobRef, error: ErrorBody): Promise<void> {
    if (!trackedStatus(this.#runs.get(job.job_id), job).current) return;
    this.#end(job.job_id, {
      ok: false,
      error: {
        code: "sandbox_unavailable",
        message: `no host-agent with a Docker sandbox took the run: ${error.message}`,
      },
    });
  }

  async jobLost(job: JobRef, reason: string): Promise<void> {
    const run = this.#runs.get(job.job_id);
    if (!run || !trackedStatus(run, job).current) return;
    if (job.attempt >= this.#config.ATOMIC_MAX_ATTEMPTS) {
      this.#end(job.job_id, { ok: false, error: { code: "agent_lost", message: reason } });
      return;
    }
    this.#log.warn("sandbox job lost with its agent; running it again", {
      execution_id: run.execution_id,
      attempt: job.attempt + 1,
      reason,
    });
    run.attempt = job.attempt + 1;
    run.last_seq = 0;
    await this.#place(job.job_id);
  }

  async jobStatus(job: JobRef): Promise<JobStatus> {
    return trackedStatus(this.#runs.get(job.job_id), job);
  }

  #end(jobId: string, outcome: ExecutionOutcome): void {
    const run = this.#runs.get(jobId);
    if (!run) return;
    this.#runs.delete(jobId);
    run.finish(outcome);
  }
}
