import type { ErrorCode, JobError, JobEvent, JobResult } from "../../../shared/src/index.ts";
import { jobKey, LIMITS, LINK_VERSION } from "../../../shared/src/index.ts";

/** A frame kept for the edge, with its size as UTF-8 JSON. */
interface Kept<F> {
  frame: F;
  bytes: number;
}

/** What the link still has to deliver of one attempt of a job. */
interface Box {
  events: Array<Kept<JobEvent>>;
  result: Kept<JobResult> | null;
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

/** A job the outbox gave up holding frames for: the link hands it back to the edge and stops it. */
export interface HandedBack {
  job_id: string;
  attempt: number;
  error: JobError;
}

/**
 * What the link does with a frame it was given: send it (as `text`), send a failure result in
 * its place because the job just failed, hand the job back because the outbox is full, or
 * nothing (the job had already failed or been handed back).
 */
export type Posted =
  | { action: "send"; text: string }
  | ({ action: "fail" } & Failed)
  | ({ action: "handback" } & HandedBack)
  | { action: "drop" };

/** The most the outbox holds while the edge does not ack (ATOMIC_OUTBOX_MAX_FRAMES, ATOMIC_OUTBOX_MAX_BYTES). */
export interface OutboxLimits {
  maxFrames: number;
  maxBytes: number;
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { maxFrames: 10_000, maxBytes: 32 * 1024 * 1024 };

/** Handed-back jobs remembered (so their late frames are dropped) at most; the oldest go first. */
const HANDED_BACK_MEMORY = 1024;

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
 *
 * It is bounded (`OutboxLimits`): while the edge is unreachable (or acks too slowly) it holds at
 * most `maxFrames` frames and `maxBytes` bytes. The job whose frame would pass either bound is
 * handed back instead: everything it holds is dropped, it is left out of the next `hello`, and
 * the link tells the edge at once if it is linked, so the edge places it again (attempt + 1)
 * where it can; the runner stops it. Memory stays bounded however long the edge is away, and no
 * pipeline waits on a job whose output was thrown away.
 */
export class Outbox {
  readonly #boxes = new Map<string, Box>();
  readonly #limits: OutboxLimits;
  readonly #handedBack = new Map<string, { job_id: string; attempt: number }>();
  #frames = 0;
  #bytes = 0;

  constructor(limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS) {
    this.#limits = limits;
  }

  /** Frames the edge has not acked yet. */
  get unacked(): number {
    return this.#frames;
  }

  /** Bytes (UTF-8 JSON) of the frames the edge has not acked yet. */
  get unackedBytes(): number {
    return this.#bytes;
  }

  /** Whether a job was handed back for want of room (it must not be reported as running). */
  handedBack(jobId: string, attempt: number): boolean {
    return this.#handedBack.has(key(jobId, attempt));
  }

  /**
   * The jobs handed back that the edge may not have heard of yet (they were dropped while it was
   * unreachable), to tell it after `welcome`; then forgotten, except those still `running` here
   * (still stopping), so their late frames stay dropped.
   */
  takeHandedBack(running: ReadonlySet<string>): Array<{ job_id: string; attempt: number }> {
    const jobs = [...this.#handedBack.values()];
    for (const k of [...this.#handedBack.keys()]) if (!running.has(k)) this.#handedBack.delete(k);
    return jobs;
  }

  /** Keeps an event (or fails its job when the event cannot fit a frame, or hands it back when the outbox is full). */
  event(frame: JobEvent): Posted {
    return this.#post(frame, (box, bytes) => box.events.push({ frame, bytes }));
  }

  /** Keeps a result (or fails its job when the result cannot fit a frame, or hands it back when the outbox is full). */
  result(frame: JobResult): Posted {
    return this.#post(frame, (box, bytes) => {
      if (box.result) this.#count(-1, -box.result.bytes);
      box.result = { frame, bytes };
    });
  }

  /** The edge stored events up to `seq`, and the result too when `result`. */
  ack(jobId: string, attempt: number, seq: number, result: boolean): void {
    const box = this.#boxes.get(key(jobId, attempt));
    if (!box) return;
    box.acked = Math.max(box.acked, seq);
    const kept = box.events.filter((event) => event.frame.seq > seq);
    for (const gone of box.events) if (gone.frame.seq <= seq) this.#count(-1, -gone.bytes);
    box.events = kept;
    if (result) this.#drop(key(jobId, attempt));
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
    this.#drop(key(jobId, attempt));
    this.#handedBack.delete(key(jobId, attempt));
  }

  /** Every frame not acked, in the order to send them again: each job's events, then its result. */
  *pending(): Generator<JobEvent | JobResult> {
    for (const box of this.#boxes.values()) {
      for (const event of box.events) yield event.frame;
      if (box.result) yield box.result.frame;
    }
  }

  /** The jobs with something not acked, for `hello.running`. */
  jobs(): Array<{ job_id: string; attempt: number }> {
    const jobs: Array<{ job_id: string; attempt: number }> = [];
    for (const box of this.#boxes.values()) {
      const frame = box.result?.frame ?? box.events[0]?.frame;
      if (frame) jobs.push({ job_id: frame.job_id, attempt: frame.attempt });
    }
    return jobs;
  }

  #post(frame: JobEvent | JobResult, keep: (box: Box, bytes: number) => void): Posted {
    if (this.#handedBack.has(key(frame.job_id, frame.attempt))) return { action: "drop" };
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
    const replaced = frame.type === "job.result" && box.result ? box.result.bytes : 0;
    const frames = this.#frames + (replaced > 0 ? 0 : 1);
    if (frames > this.#limits.maxFrames || this.#bytes - replaced + bytes > this.#limits.maxBytes) {
      return { action: "handback", ...this.#handBack(frame.job_id, frame.attempt, frames, bytes) };
    }
    keep(box, bytes);
    this.#count(1, bytes);
    return { action: "send", text };
  }

  #handBack(jobId: string, attempt: number, frames: number, bytes: number): HandedBack {
    const k = key(jobId, attempt);
    this.#drop(k);
    this.#handedBack.set(k, { job_id: jobId, attempt });
    if (this.#handedBack.size > HANDED_BACK_MEMORY) this.#handedBack.delete(this.#handedBack.keys().next().value!);
    return {
      job_id: jobId,
      attempt,
      error: {
        code: "agent_lost",
        message:
          `the host-agent's outbox is full (${frames} frames or ${this.#bytes + bytes} bytes not acked by the edge; ` +
          `ATOMIC_OUTBOX_MAX_FRAMES=${this.#limits.maxFrames}, ATOMIC_OUTBOX_MAX_BYTES=${this.#limits.maxBytes}): ` +
          "the job is handed back to be run again",
        retryable: true,
      },
    };
  }

  #fail(jobId: string, attempt: number, box: Box, error: JobError): Failed {
    box.failed = true;
    for (const event of box.events) this.#count(-1, -event.bytes);
    if (box.result) this.#count(-1, -box.result.bytes);
    box.events = [];
    const result: JobResult = {
      v: LINK_VERSION,
      type: "job.result",
      job_id: jobId,
      attempt,
      events: box.acked,
      outcome: { ok: false, error },
    };
    // A failure result is small and always kept: the bounds are not checked for it.
    const bytes = Buffer.byteLength(JSON.stringify(result), "utf8");
    box.result = { frame: result, bytes };
    this.#count(1, bytes);
    return { result, error };
  }

  #drop(k: string): void {
    const box = this.#boxes.get(k);
    if (!box) return;
    for (const event of box.events) this.#count(-1, -event.bytes);
    if (box.result) this.#count(-1, -box.result.bytes);
    this.#boxes.delete(k);
  }

  #count(frames: number, bytes: number): void {
    this.#frames += frames;
    this.#bytes += bytes;
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
