import { DurableObject } from "cloudflare:workers";
import type { ErrorBody, ExecuteRequest, ExecuteResult, JobEventBody } from "../../../shared/src/index.ts";
import { ExecuteResult as ExecuteResultSchema } from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import type { EventAck, ResultAck } from "../pipeline/pipeline-do.ts";
import type { JobOutcome } from "../pipeline/stage.ts";

export type ExecutionOutcome = { ok: true; result: ExecuteResult } | { ok: false; error: ErrorBody };

/** How long a sandbox job may take beyond its own timeout (container start, output transfer). */
const DEADLINE_SLACK_MS = 30_000;

/**
 * One `POST /api/execute` (DESIGN §3): places a `sandbox.execute` job on a host-agent with Docker
 * and waits for its result. It owns that job as a PipelineDO owns its stage jobs: it takes the
 * agent's events and result, and runs the job again with `attempt + 1` when its agent is lost.
 * Nothing here outlives the request, so its state stays in memory.
 */
export class ExecutionDO extends DurableObject<Env> {
  #config: EdgeConfig;
  #log: EdgeLogger;
  #job: { job_id: string; attempt: number; last_seq: number } | null = null;
  #request: ExecuteRequest | null = null;
  #pool = "default";
  #finish: ((outcome: ExecutionOutcome) => void) | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#log = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "execution", execution_id: ctx.id.name });
  }

  async run(request: ExecuteRequest, pool: string): Promise<ExecutionOutcome> {
    if (this.#request) return { ok: false, error: { code: "conflict", message: "this execution already runs" } };
    this.#request = request;
    this.#pool = pool;
    const done = new Promise<ExecutionOutcome>((resolve) => {
      this.#finish = resolve;
    });
    await this.#place(pool, 1);
    return done;
  }

  async #place(pool: string, attempt: number): Promise<void> {
    const request = this.#request!;
    const id = this.ctx.id.name ?? "unnamed";
    const jobId = `execute/${id}`;
    this.#job = { job_id: jobId, attempt, last_seq: 0 };
    const timeoutSeconds = request.limits?.timeout_seconds ?? 300;
    const placed = await this.env.SCHEDULER.getByName(pool).placeJob({
      job_id: jobId,
      attempt,
      owner: { kind: "execution", id },
      pipeline_id: null,
      kind: "sandbox.execute",
      payload: request,
      labels: {},
      priority: "high",
      deadline_ms: Math.ceil(timeoutSeconds * 1000) + DEADLINE_SLACK_MS,
      mode: "wait",
      wait_ms: this.#config.ATOMIC_AGENT_WAIT_MS,
    });
    if (placed.status === "unavailable") {
      this.#end({
        ok: false,
        error: { code: "sandbox_unavailable", message: "no host-agent with a Docker sandbox is linked" },
      });
    }
  }

  async jobEvent(jobId: string, attempt: number, seq: number, _event: JobEventBody): Promise<EventAck> {
    const job = this.#job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return { status: "stale", last_seq: seq };
    if (seq <= job.last_seq) return { status: "duplicate", last_seq: job.last_seq };
    if (seq !== job.last_seq + 1) return { status: "gap", last_seq: job.last_seq };
    job.last_seq = seq;
    return { status: "stored", last_seq: seq };
  }

  async jobResult(jobId: string, attempt: number, _events: number, outcome: JobOutcome): Promise<ResultAck> {
    const job = this.#job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return { status: "stale", last_seq: 0 };
    this.#job = null;
    if (!outcome.ok) {
      const code = outcome.error.code === "no_agent" ? "sandbox_unavailable" : outcome.error.code;
      const message =
        outcome.error.code === "no_agent"
          ? `no host-agent with a Docker sandbox took the run: ${outcome.error.message}`
          : outcome.error.message;
      this.#end({ ok: false, error: { code, message } });
      return { status: "stored", last_seq: job.last_seq };
    }
    const result = ExecuteResultSchema.safeParse(outcome.result);
    this.#end(
      result.success
        ? { ok: true, result: result.data }
        : { ok: false, error: { code: "sandbox_error", message: "the host-agent answered an invalid sandbox result" } },
    );
    return { status: "stored", last_seq: job.last_seq };
  }

  async jobLost(jobId: string, attempt: number, reason: string): Promise<void> {
    const job = this.#job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return;
    if (attempt >= this.#config.ATOMIC_MAX_ATTEMPTS) {
      this.#end({ ok: false, error: { code: "agent_lost", message: reason } });
      return;
    }
    this.#log.warn("sandbox job lost with its agent; running it again", { attempt: attempt + 1, reason });
    await this.#place(this.#pool, attempt + 1);
  }

  async jobStatus(jobId: string, attempt: number): Promise<{ current: boolean; last_seq: number }> {
    const job = this.#job;
    return job && job.job_id === jobId && job.attempt === attempt
      ? { current: true, last_seq: job.last_seq }
      : { current: false, last_seq: 0 };
  }

  #end(outcome: ExecutionOutcome): void {
    this.#finish?.(outcome);
    this.#finish = null;
    this.#job = null;
  }
}
