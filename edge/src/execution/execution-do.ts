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

/** Objects that runs are spread over, per location. */
const SHARDS = 16;

/**
 * The object a new run goes to: one of a few per location (`colo`, when the runtime says where
 * it runs). Runs are short and keep nothing, so they share long-lived objects instead of each
 * creating one: a new SQLite-backed object costs its database files first (~7 ms a request in
 * the local runtime, docs/BENCHMARKS.md).
 */
export function executionShard(colo: string | undefined): string {
  return `${colo ?? "any"}-${Math.floor(Math.random() * SHARDS)}`;
}

interface Run {
  execution_id: string;
  request: ExecuteRequest;
  pool: string;
  attempt: number;
  last_seq: number;
  finish: (outcome: ExecutionOutcome) => void;
}

/**
 * `POST /api/execute` runs (DESIGN §3): each places a `sandbox.execute` job on a host-agent with
 * Docker and waits for its result. This object owns those jobs as a PipelineDO owns its stage
 * jobs: it takes the agents' events and results, and runs a job again with `attempt + 1` when its
 * agent is lost. Nothing here outlives its request, so the runs stay in memory.
 */
export class ExecutionDO extends DurableObject<Env> {
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
      this.#runs.set(jobId, { execution_id: executionId, request, pool, attempt: 1, last_seq: 0, finish });
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

  async jobEvent(jobId: string, attempt: number, seq: number, _event: JobEventBody): Promise<EventAck> {
    const run = this.#current(jobId, attempt);
    if (!run) return { status: "stale", last_seq: seq };
    if (seq <= run.last_seq) return { status: "duplicate", last_seq: run.last_seq };
    if (seq !== run.last_seq + 1) return { status: "gap", last_seq: run.last_seq };
    run.last_seq = seq;
    return { status: "stored", last_seq: seq };
  }

  async jobResult(jobId: string, attempt: number, _events: number, outcome: JobOutcome): Promise<ResultAck> {
    const run = this.#current(jobId, attempt);
    if (!run) return { status: "stale", last_seq: 0 };
    if (!outcome.ok) {
      const code = outcome.error.code === "no_agent" ? "sandbox_unavailable" : outcome.error.code;
      const message =
        outcome.error.code === "no_agent"
          ? `no host-agent with a Docker sandbox took the run: ${outcome.error.message}`
          : outcome.error.message;
      this.#end(jobId, { ok: false, error: { code, message } });
      return { status: "stored", last_seq: run.last_seq };
    }
    const result = ExecuteResultSchema.safeParse(outcome.result);
    this.#end(
      jobId,
      result.success
        ? { ok: true, result: result.data }
        : { ok: false, error: { code: "sandbox_error", message: "the host-agent answered an invalid sandbox result" } },
    );
    return { status: "stored", last_seq: run.last_seq };
  }

  async jobLost(jobId: string, attempt: number, reason: string): Promise<void> {
    const run = this.#current(jobId, attempt);
    if (!run) return;
    if (attempt >= this.#config.ATOMIC_MAX_ATTEMPTS) {
      this.#end(jobId, { ok: false, error: { code: "agent_lost", message: reason } });
      return;
    }
    this.#log.warn("sandbox job lost with its agent; running it again", {
      execution_id: run.execution_id,
      attempt: attempt + 1,
      reason,
    });
    run.attempt = attempt + 1;
    run.last_seq = 0;
    await this.#place(jobId);
  }

  async jobStatus(jobId: string, attempt: number): Promise<{ current: boolean; last_seq: number }> {
    const run = this.#current(jobId, attempt);
    return run ? { current: true, last_seq: run.last_seq } : { current: false, last_seq: 0 };
  }

  #current(jobId: string, attempt: number): Run | undefined {
    const run = this.#runs.get(jobId);
    return run && run.attempt === attempt ? run : undefined;
  }

  #end(jobId: string, outcome: ExecutionOutcome): void {
    const run = this.#runs.get(jobId);
    if (!run) return;
    this.#runs.delete(jobId);
    run.finish(outcome);
  }
}
