import { describe, expect, it } from "vitest";
import { isTracked, trackedStatus, trackEvent, trackResult, type TrackedJob } from "./job-tracker.ts";

const ref = { job_id: "p1/generating", attempt: 2 };

describe("the job tracker", () => {
  it("stores events exactly once and in order, and says how far it got", () => {
    const job: TrackedJob = { ...ref, last_seq: 0 };
    expect(trackEvent(job, ref, 1)).toEqual({ status: "stored", last_seq: 1 });
    expect(trackEvent(job, ref, 2)).toEqual({ status: "stored", last_seq: 2 });
    expect(trackEvent(job, ref, 2)).toEqual({ status: "duplicate", last_seq: 2 });
    expect(trackEvent(job, ref, 1)).toEqual({ status: "duplicate", last_seq: 2 });
    expect(trackEvent(job, ref, 4)).toEqual({ status: "gap", last_seq: 2 });
    expect(job.last_seq).toBe(2);
  });

  it("refuses events of another job, another attempt, or when no job is waited for", () => {
    const job: TrackedJob = { ...ref, last_seq: 0 };
    expect(trackEvent(job, { ...ref, attempt: 1 }, 1)).toEqual({ status: "stale", last_seq: 1 });
    expect(trackEvent(job, { job_id: "p1/parsing", attempt: 2 }, 1).status).toBe("stale");
    expect(trackEvent(null, ref, 5)).toEqual({ status: "stale", last_seq: 5 });
    expect(job.last_seq).toBe(0);
  });

  it("takes a result only once every event it follows is stored", () => {
    const job: TrackedJob = { ...ref, last_seq: 1 };
    expect(trackResult(job, ref, 2)).toEqual({ status: "missing_events", last_seq: 1 });
    expect(trackResult(job, ref, 1)).toEqual({ status: "current", job });
    expect(trackResult(job, { ...ref, attempt: 3 }, 0)).toEqual({ status: "stale" });
    expect(trackResult(undefined, ref, 0)).toEqual({ status: "stale" });
  });

  it("tells a reconnecting agent whether an attempt is still wanted", () => {
    const job: TrackedJob = { ...ref, last_seq: 7 };
    expect(trackedStatus(job, ref)).toEqual({ current: true, last_seq: 7 });
    expect(trackedStatus(job, { ...ref, attempt: 1 })).toEqual({ current: false, last_seq: 0 });
    expect(isTracked(job, ref)).toBe(true);
    expect(isTracked(null, ref)).toBe(false);
  });
});
