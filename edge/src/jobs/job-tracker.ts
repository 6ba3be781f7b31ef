import type { EventAck, JobStatus } from "./outcome.ts";
import type { JobRef } from "./job.ts";

/** The attempt an owner waits for, and the last event it stored of it. */
export interface TrackedJob extends JobRef {
  /** Highest event seq stored for this attempt: events at or below it are duplicates. */
  last_seq: number;
}

function isCurrent(job: TrackedJob | null | undefined, ref: JobRef): job is TrackedJob {
  return job !== null && job !== undefined && job.job_id === ref.job_id && job.attempt === ref.attempt;
}

/**
 * Takes event `seq` of `ref`: exactly-once, in-order delivery from an agent that resends whatever
 * was not acked. On `stored` the job's `last_seq` has moved to `seq` and the caller keeps the event.
 */
export function trackEvent(job: TrackedJob | null | undefined, ref: JobRef, seq: number): EventAck {
  if (!isCurrent(job, ref)) return { status: "stale", last_seq: seq };
  if (seq <= job.last_seq) return { status: "duplicate", last_seq: job.last_seq };
  if (seq !== job.last_seq + 1) return { status: "gap", last_seq: job.last_seq };
  job.last_seq = seq;
  return { status: "stored", last_seq: seq };
}

/**
 * Whether a result for `ref` that follows `events` events can be taken now: `stale` when the
 * attempt is no longer wanted, `missing_events` while some of its events have not arrived.
 */
export function trackResult(
  job: TrackedJob | null | undefined,
  ref: JobRef,
  events: number,
): { status: "current"; job: TrackedJob } | { status: "stale" } | { status: "missing_events"; last_seq: number } {
  if (!isCurrent(job, ref)) return { status: "stale" };
  if (events > job.last_seq) return { status: "missing_events", last_seq: job.last_seq };
  return { status: "current", job };
}

/** What an agent that reconnects is told of `ref`. */
export function trackedStatus(job: TrackedJob | null | undefined, ref: JobRef): JobStatus {
  return isCurrent(job, ref) ? { current: true, last_seq: job.last_seq } : { current: false, last_seq: 0 };
}

/** Whether `ref` names the attempt being waited for. */
export function isTracked(job: TrackedJob | null | undefined, ref: JobRef): job is TrackedJob {
  return isCurrent(job, ref);
}
