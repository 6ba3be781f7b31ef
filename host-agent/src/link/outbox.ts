import type { ErrorCode, JobError, JobEvent, JobResult } from "../../../shared/src/index.ts";
import { jobKey, LIMITS, LINK_VERSION } from "../../../shared/src/index.ts";

/** What the link still has to deliver of one attempt of a job. */
interface Box {
  events: JobEvent[];
  result: JobResult | null;
  /** The highest event seq the edge acked: it has stored every event up to this one. */
  acked: number;
  /** The job was failed here: its failure result is the last frame of it. */
  failed: boolean;
}

/** A job the outbox failed: the failure result to send in place of what it held, and why. */
export interface Failed {
  result: JobResult;
  error: JobError;
}

/**
 * What the link does with a frame it was given: send it (as `text`), send a failure result in
 * its place because the job just failed, or nothing (the job had already failed).
 */
export type Posted = { action: "send"; text: string } | ({ action: "fail" } & Failed) | { action: "drop" };

const key = (job_id: string, attempt: number) => jobKey({ job_id, attempt });

/**
 * The events and results the edge has not acked yet, per job attempt: the link sends each once,
 * sends them all again after a reconnect, and forgets them once acked, so nothing a job produced
 * is lost while the edge is unreachable (the edge deduplicates).
 *
 * A frame that can never be delivered, one over the frame limit or one the edge refused, would
 * be resent forever while the edge waits for it. Its job fails instead: what of it is not acked
 * is dropped, and a failure result that counts only the acked events takes its place (the edge
 * takes a result once it holds every event the result counts, and it holds those).
 */
export class Outbox {
  readonly #boxes = new Map<string, Box>();

  /** Frames the edge has not acked yet. */
  get unacked(): number {
    let count = 0;
    for (const box of this.#boxes.values()) count += box.events.length + (box.result ? 1 : 0);
    return count;
  }

  /** Keeps an event (or fails its job when the event cannot fit a frame). */
  event(frame: JobEvent): Posted {
    return this.#post(frame, (box) => box.events.push(frame));
  }

  /** Keeps a result (or fails its job when the result cannot fit a frame). */
  result(frame: JobResult): Posted {
    return this.#post(frame, (box) => {
      box.result = frame;
    });
  }

  /** The edge stored events up to `seq`, and the result too when `result`. */
  ack(jobId: string, attempt: number, seq: number, result: boolean): void {
    const box = this.#boxes.get(key(jobId, attempt));
    if (!box) return;
    box.acked = Math.max(box.acked, seq);
    box.events = box.events.filter((event) => event.seq > seq);
    if (result) this.#boxes.delete(key(jobId, attempt));
  }

  /**
   * The edge refused a frame of a job; sending it again would be refused again. Answers the
   * failure to send, or null when nothing of the job is held or it has failed already.
   */
  refused(jobId: string, attempt: number, code: ErrorCode, message: string): Failed | null {
    const box = this.#boxes.get(key(jobId, attempt));
    if (!box || box.failed) return null;
    return this.#fail(jobId, attempt, box, {
      code: "agent_error",
      message: `the edge refused a frame of this job: ${code}: ${message.slice(0, 1024)}`,
      retryable: false,
    });
  }

  /** Drops whatever a job still had to send (the edge cancelled it). */
  forget(jobId: string, attempt: number): void {
    this.#boxes.delete(key(jobId, attempt));
  }

  /** Every frame not acked, in the order to send them again: each job's events, then its result. */
  *pending(): Generator<JobEvent | JobResult> {
    for (const box of this.#boxes.values()) {
      yield* box.events;
      if (box.result) yield box.result;
    }
  }

  /** The jobs with something not acked, for `hello.running`. */
  jobs(): Array<{ job_id: string; attempt: number }> {
    const jobs: Array<{ job_id: string; attempt: number }> = [];
    for (const box of this.#boxes.values()) {
      const frame = box.result ?? box.events[0];
      if (frame) jobs.push({ job_id: frame.job_id, attempt: frame.attempt });
    }
    return jobs;
  }

  #post(frame: JobEvent | JobResult, keep: (box: Box) => void): Posted {
    const box = this.#box(frame.job_id, frame.attempt);
    if (box.failed) return { action: "drop" };
    const text = JSON.stringify(frame);
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > LIMITS.agentFrameMaxBytes) {
      return {
        action: "fail",
        ...this.#fail(frame.job_id, frame.attempt, box, {
          code: "agent_error",
          message: `the job's ${frame.type} frame is ${bytes} bytes, over the agent-link limit of ${LIMITS.agentFrameMaxBytes}: the host-agent cannot deliver it`,
          retryable: false,
        }),
      };
    }
    keep(box);
    return { action: "send", text };
  }

  #fail(jobId: string, attempt: number, box: Box, error: JobError): Failed {
    box.failed = true;
    box.events = [];
    box.result = {
      v: LINK_VERSION,
      type: "job.result",
      job_id: jobId,
      attempt,
      events: box.acked,
      outcome: { ok: false, error },
    };
    return { result: box.result, error };
  }

  #box(jobId: string, attempt: number): Box {
    const k = key(jobId, attempt);
    let box = this.#boxes.get(k);
    if (!box) {
      box = { events: [], result: null, acked: 0, failed: false };
      this.#boxes.set(k, box);
    }
    return box;
  }
}
