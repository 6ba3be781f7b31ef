import type { JobAssign, JobError, JobEventBody, JobKind } from "../../../shared/src/index.ts";
import { jobKey } from "../../../shared/src/index.ts";
import type { Logger } from "../log.ts";
import { JobFailure, toJobError } from "./job-failure.ts";
import { TokenBatcher } from "./token-batcher.ts";

/** What a job handler gets: its assignment, a signal that fires on cancel or deadline, and ways to report. */
export interface JobContext {
  readonly job: JobAssign;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Generated text; batched into `token` events. */
  token(text: string): void;
  /** Any other event (sandbox output, progress). */
  emit(event: JobEventBody): void;
}

/** Runs one kind of job and returns its result; throws a JobFailure (or a coded error) when it fails. */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** The part of the link the runner reports through. */
export interface JobReporter {
  sendAccepted(jobId: string, attempt: number): void;
  sendRejected(jobId: string, attempt: number, reason: string): void;
  sendEvent(jobId: string, attempt: number, seq: number, event: JobEventBody): void;
  sendResult(
    jobId: string,
    attempt: number,
    events: number,
    outcome: { ok: true; result: unknown } | { ok: false; error: ReturnType<typeof toJobError> },
  ): void;
  forget(jobId: string, attempt: number): void;
}

interface Running {
  job: JobAssign;
  controller: AbortController;
  /** Nothing more of this job is sent: the edge cancelled it, it was handed back, or the link failed it. */
  silenced: boolean;
  done: Promise<void>;
}

const key = (job_id: string, attempt: number) => jobKey({ job_id, attempt });

/**
 * Runs the jobs the edge assigns, at most `capacity` at once (ATOMIC_THREADS), each with its own
 * abort signal for cancellation and its deadline. Events get their seq here, 1, 2, 3, … per job.
 */
export class JobRunner {
  readonly #capacity: number;
  readonly #handlers: Partial<Record<JobKind, JobHandler>>;
  readonly #log: Logger;
  readonly #tokenFlushMs: number;
  #reporter: JobReporter | null = null;
  #running = new Map<string, Running>();
  #draining = false;

  constructor(options: {
    capacity: number;
    handlers: Partial<Record<JobKind, JobHandler>>;
    logger: Logger;
    tokenFlushMs?: number;
  }) {
    this.#capacity = options.capacity;
    this.#handlers = options.handlers;
    this.#log = options.logger.child({ component: "jobs" });
    this.#tokenFlushMs = options.tokenFlushMs ?? 10;
  }

  /** The kinds this host can run. */
  get kinds(): JobKind[] {
    return Object.keys(this.#handlers).filter((kind): kind is JobKind => this.#handlers[kind as JobKind] !== undefined);
  }

  attach(reporter: JobReporter): void {
    this.#reporter = reporter;
  }

  running(): Array<{ job_id: string; attempt: number }> {
    return [...this.#running.values()].map(({ job }) => ({ job_id: job.job_id, attempt: job.attempt }));
  }

  assign(job: JobAssign): void {
    const reporter = this.#reporter;
    if (!reporter) throw new Error("JobRunner.attach() must be called before jobs arrive");
    const k = key(job.job_id, job.attempt);
    if (this.#running.has(k)) return;
    const handler = this.#handlers[job.kind];
    const refusal = this.#draining
      ? "draining"
      : !handler
        ? `this host cannot run ${job.kind} jobs`
        : this.#running.size >= this.#capacity
          ? `all ${this.#capacity} slots are busy`
          : null;
    if (refusal !== null || !handler) {
      this.#log.info("job refused", { job_id: job.job_id, kind: job.kind, reason: refusal });
      reporter.sendRejected(job.job_id, job.attempt, refusal ?? "no handler");
      return;
    }
    const controller = new AbortController();
    const entry: Running = { job, controller, silenced: false, done: Promise.resolve() };
    this.#running.set(k, entry);
    reporter.sendAccepted(job.job_id, job.attempt);
    entry.done = this.#run(entry, handler, reporter).finally(() => this.#running.delete(k));
  }

  cancel(jobId: string, attempt: number, reason: string): void {
    const entry = this.#running.get(key(jobId, attempt));
    this.#reporter?.forget(jobId, attempt);
    if (!entry) return;
    this.#log.info("job cancelled by the edge", { job_id: jobId, attempt, reason });
    entry.silenced = true;
    entry.controller.abort(new JobFailure("cancelled", reason, false));
  }

  /**
   * Stops a job the link has failed itself (one of its frames could not be delivered, and the
   * link sent a failure result in its place): it sends nothing more.
   */
  abandon(jobId: string, attempt: number, error: JobError): void {
    const entry = this.#running.get(key(jobId, attempt));
    if (!entry) return;
    this.#log.warn("job stopped: the link failed it", { job_id: jobId, attempt, error });
    entry.silenced = true;
    entry.controller.abort(new JobFailure(error.code, error.message, error.retryable));
  }

  /**
   * Stops taking jobs and waits for the running ones up to `timeoutMs`; what is still running
   * then is handed back (the edge places it again elsewhere).
   */
  async drain(timeoutMs: number): Promise<{ finished: number; handedBack: number }> {
    this.#draining = true;
    const entries = [...this.#running.values()];
    const all = Promise.all(entries.map((e) => e.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs))]);
    const left = [...this.#running.values()];
    for (const entry of left) {
      entry.silenced = true;
      entry.controller.abort(new JobFailure("cancelled", "host-agent shutting down", true));
      this.#reporter?.forget(entry.job.job_id, entry.job.attempt);
      this.#reporter?.sendRejected(entry.job.job_id, entry.job.attempt, "host-agent shutting down; run it elsewhere");
    }
    return { finished: entries.length - left.length, handedBack: left.length };
  }

  async #run(entry: Running, handler: JobHandler, reporter: JobReporter): Promise<void> {
    const { job, controller } = entry;
    const log = this.#log.child({
      job_id: job.job_id,
      attempt: job.attempt,
      pipeline_id: job.pipeline_id,
      kind: job.kind,
    });
    const deadline = setTimeout(
      () =>
        controller.abort(new JobFailure("timeout", `${job.kind} ran past its deadline of ${job.deadline_ms} ms`, true)),
      job.deadline_ms,
    );
    let seq = 0;
    const emit = (event: JobEventBody) => {
      if (entry.silenced) return;
      seq += 1;
      reporter.sendEvent(job.job_id, job.attempt, seq, event);
    };
    const batcher = new TokenBatcher((text) => emit({ kind: "token", text }), { flushMs: this.#tokenFlushMs });
    const started = Date.now();
    log.info("job started");
    try {
      const result = await handler({ job, signal: controller.signal, log, token: (text) => batcher.push(text), emit });
      batcher.flush();
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!entry.silenced) reporter.sendResult(job.job_id, job.attempt, seq, { ok: true, result });
      log.info("job finished", { ms: Date.now() - started, events: seq });
    } catch (thrown) {
      batcher.flush();
      const error = toJobError(controller.signal.aborted ? (controller.signal.reason ?? thrown) : thrown);
      if (!entry.silenced) reporter.sendResult(job.job_id, job.attempt, seq, { ok: false, error });
      log[error.code === "cancelled" ? "info" : "warn"]("job failed", { error, ms: Date.now() - started });
    } finally {
      clearTimeout(deadline);
    }
  }
}
