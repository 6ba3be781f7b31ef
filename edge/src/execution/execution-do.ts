import { DurableObject } from "cloudflare:workers";
import type { ErrorBody, ExecuteRequest, ExecuteResult, JobEventBody } from "../../../shared/src/index.ts";
import { ExecuteResult as ExecuteResultSchema } from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import type { JobRef } from "../jobs/job.ts";
import { trackedStatus, trackEvent, trackResult, type TrackedJob } from "../jobs/job-tracker.ts";
import type { EventAck, JobOutcome, JobStatus, ResultAck } from "../jobs/outcome.ts";
import type { JobOwnerApi } from "../jobs/owner.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import type { FinishedExecution } from "../scheduler/reports.ts";
import { RESULT_GRACE_MS, runDeadlineMs } from "./run-deadline.ts";

export type ExecutionOutcome = { ok: true; result: ExecuteResult } | { ok: false; error: ErrorBody };

interface Run extends TrackedJob {
  execution_id: string;
  request: ExecuteRequest;
  pool: string;
  started_at: number;
  /** Ends the run with a timeout when its attempt's deadline and grace have passed. */
  deadline: ReturnType<typeof setTimeout> | null;
  finish: (outcome: ExecutionOutcome) => void;
}

/**
 * `POST /api/execute` runs (DESIGN §3): each places a `sandbox.execute` job on a host-agent with
 * Docker and waits for its result. This object owns those jobs as a PipelineDO owns its stage
 * jobs: it takes the agents' events and results, and runs a job again with `attempt + 1` when its
 * agent is lost. Nothing here outlives its request, so the runs stay in memory.
 *
 * Every run ends: with its job's result, or with a timeout when the job's deadline (plus
 * {@link RESULT_GRACE_MS}) passes with no answer, or cancelled when its client goes away. A run
 * that ends without a result cancels its job through the scheduler, which frees the job's slot.
 * The deadline is a timer, not an alarm: the run and the request waiting for it live in this
 * object's memory, and the timer lives and dies with them; an alarm would outlast a restart the
 * run does not survive, and cost a storage write per run.
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
    const jobId = jobIdOf(executionId);
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
        started_at: Date.now(),
        deadline: null,
        finish,
      });
    });
    await this.#place(jobId);
    return done;
  }

  /** The client that asked for a run went away: the run ends and its job is cancelled. */
  async cancel(executionId: string): Promise<void> {
    const run = this.#runs.get(jobIdOf(executionId));
    if (!run) return;
    this.#log.info("client went away; cancelling its run", { execution_id: executionId, attempt: run.attempt });
    this.#end(run.job_id, { ok: false, error: { code: "cancelled", message: "the client disconnected" } });
    await this.#cancelJob(run.pool, refOf(run), "the client disconnected");
  }

  async #place(jobId: string): Promise<void> {
    const run = this.#runs.get(jobId);
    if (!run) return;
    const attempt = run.attempt;
    const deadlineMs = runDeadlineMs(run.request, this.#config.ATOMIC_EXECUTE_SLACK_MS);
    const placed = await this.env.SCHEDULER.getByName(run.pool).placeJob({
      job_id: jobId,
      attempt,
      owner: { kind: "execution", id: this.ctx.id.name ?? "unnamed" },
      pipeline_id: null,
      kind: "sandbox.execute",
      payload: run.request,
      labels: {},
      priority: "high",
      deadline_ms: deadlineMs,
      mode: "wait",
      wait_ms: this.#config.ATOMIC_AGENT_WAIT_MS,
    });
    if (placed.status === "unavailable") {
      this.#end(jobId, {
        ok: false,
        error: { code: "sandbox_unavailable", message: "no host-agent with a Docker sandbox is linked" },
      });
      return;
    }
    // The run may have ended while its job was being placed (a cancel, a timeout): the job must
    // not run on for nobody. (After a result, the cancel finds nothing left to take back.)
    if (this.#runs.get(jobId) !== run) return this.#cancelJob(run.pool, { job_id: jobId, attempt }, "the run ended");
    if (run.attempt !== attempt) return;
    // A job that waits for an agent starts its deadline only once placed, at most wait_ms later.
    const waitMs = placed.status === "queued" ? this.#config.ATOMIC_AGENT_WAIT_MS : 0;
    if (run.deadline !== null) clearTimeout(run.deadline);
    run.deadline = setTimeout(() => void this.#expire(run, attempt, deadlineMs), waitMs + deadlineMs + RESULT_GRACE_MS);
  }

  /** An attempt's deadline and grace passed with no answer: the run times out and its job is cancelled. */
  async #expire(run: Run, attempt: number, deadlineMs: number): Promise<void> {
    if (this.#runs.get(run.job_id) !== run || run.attempt !== attempt) return;
    this.#log.warn("sandbox job ran past its deadline; cancelling it", {
      execution_id: run.execution_id,
      attempt,
      deadline_ms: deadlineMs,
    });
    this.#end(run.job_id, {
      ok: false,
      error: {
        code: "timeout",
        message: `the run did not finish within its deadline of ${deadlineMs} ms (timeout_seconds plus ATOMIC_EXECUTE_SLACK_MS)`,
      },
    });
    await this.#cancelJob(run.pool, refOf(run), "the run's deadline passed");
  }

  /** Takes a job back from its agent (or out of the wait); the scheduler frees its slot. */
  async #cancelJob(pool: string, job: JobRef, reason: string): Promise<void> {
    await this.env.SCHEDULER.getByName(pool)
      .cancelJob(job, reason)
      .catch((error: unknown) => this.#log.error("could not cancel a sandbox job", { ...job, error }));
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
    if (run.deadline !== null) clearTimeout(run.deadline);
    run.finish(outcome);
    const finished = metricOf(outcome, Date.now() - run.started_at);
    this.env.SCHEDULER.getByName(run.pool)
      .executionFinished(finished)
      .catch((error: unknown) => this.#log.warn("could not report a run to the metrics", { job_id: jobId, error }));
  }
}

function refOf(job: JobRef): JobRef {
  return { job_id: job.job_id, attempt: job.attempt };
}

function jobIdOf(executionId: string): string {
  return `execute/${executionId}`;
}

/** How the metrics count a run's outcome: a program killed at its own timeout counts as timed out. */
function metricOf(outcome: ExecutionOutcome, durationMs: number): FinishedExecution {
  if (outcome.ok) return { outcome: outcome.result.timed_out ? "timed_out" : "ok", duration_ms: durationMs };
  if (outcome.error.code === "timeout") return { outcome: "timed_out", duration_ms: durationMs };
  if (outcome.error.code === "cancelled") return { outcome: "cancelled", duration_ms: durationMs };
  return { outcome: "failed", code: outcome.error.code, duration_ms: durationMs };
}
