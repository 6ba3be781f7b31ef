/**
 * Helpers for tests of the job runner and its handlers: a reporter that records, in order, the
 * frames the link would send the edge, and a way to wait for one of them.
 */
import {
  LINK_VERSION,
  type JobAccepted,
  type JobAssign,
  type JobEvent,
  type JobEventBody,
  type JobRejected,
  type JobResult,
} from "../../../shared/src/index.ts";
import type { JobReporter } from "./job-runner.ts";

/** The link dropping what a job still had to send (the edge cancelled it, or it was handed back). */
export interface Forgotten {
  type: "forget";
  job_id: string;
  attempt: number;
}

export type Recorded = JobAccepted | JobRejected | JobEvent | JobResult | Forgotten;

/** Stands in for the link: records each frame it is asked to send, as the edge would receive it. */
export class RecordingReporter implements JobReporter {
  readonly sent: Recorded[] = [];
  #listeners = new Set<() => void>();

  sendAccepted(jobId: string, attempt: number): void {
    this.#record({ v: LINK_VERSION, type: "job.accepted", job_id: jobId, attempt });
  }

  sendRejected(jobId: string, attempt: number, reason: string): void {
    this.#record({ v: LINK_VERSION, type: "job.rejected", job_id: jobId, attempt, reason });
  }

  sendEvent(jobId: string, attempt: number, seq: number, event: JobEventBody): void {
    this.#record({ v: LINK_VERSION, type: "job.event", job_id: jobId, attempt, seq, event });
  }

  sendResult(jobId: string, attempt: number, events: number, outcome: JobResult["outcome"]): void {
    this.#record({ v: LINK_VERSION, type: "job.result", job_id: jobId, attempt, events, outcome });
  }

  forget(jobId: string, attempt: number): void {
    this.#record({ type: "forget", job_id: jobId, attempt });
  }

  /** What was recorded for one job (all attempts unless `attempt` is given). */
  of(jobId: string, attempt?: number): Recorded[] {
    return this.sent.filter((frame) => frame.job_id === jobId && (attempt === undefined || frame.attempt === attempt));
  }

  /** The events of one job, in the order they were sent. */
  events(jobId: string): JobEvent[] {
    return this.sent.filter((frame): frame is JobEvent => frame.type === "job.event" && frame.job_id === jobId);
  }

  /** Resolves with the result of `jobId` once it is sent. */
  result(jobId: string, timeoutMs = 10_000): Promise<JobResult> {
    return this.waitFor(
      (frame): frame is JobResult => frame.type === "job.result" && frame.job_id === jobId,
      timeoutMs,
    );
  }

  /** Resolves with the first recorded frame that matches, now or when it is sent. */
  waitFor<T extends Recorded>(predicate: (frame: Recorded) => frame is T, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (frame: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  waitFor(predicate: (frame: Recorded) => boolean, timeoutMs = 10_000): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.sent.find(predicate);
        if (found === undefined) return false;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(found);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`no matching frame in ${timeoutMs} ms; sent: ${JSON.stringify(this.sent).slice(-2000)}`));
      }, timeoutMs);
      this.#listeners.add(listener);
      check();
    });
  }

  #record(frame: Recorded): void {
    this.sent.push(frame);
    for (const listener of [...this.#listeners]) listener();
  }
}

/** A `job.assign` as the edge sends it; `overrides` change any field. */
export function assignment(jobId: string, overrides: Partial<JobAssign> = {}): JobAssign {
  return {
    v: LINK_VERSION,
    type: "job.assign",
    job_id: jobId,
    attempt: 1,
    pipeline_id: "pipeline-1",
    kind: "llm.generate",
    payload: {},
    deadline_ms: 60_000,
    ...overrides,
  };
}
