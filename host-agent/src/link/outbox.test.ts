import { describe, expect, it } from "vitest";
import { LIMITS, LINK_VERSION, type JobEvent, type JobResult } from "../../../shared/src/index.ts";
import { Outbox } from "./outbox.ts";

const job = { job_id: "p1/generating", attempt: 2 };
const event = (seq: number, text = "x"): JobEvent => ({
  v: LINK_VERSION,
  type: "job.event",
  ...job,
  seq,
  event: { kind: "token", text },
});
const result = (events: number, value: unknown = { chars: 3 }): JobResult => ({
  v: LINK_VERSION,
  type: "job.result",
  ...job,
  events,
  outcome: { ok: true, result: value },
});

describe("the outbox", () => {
  it("keeps what the edge has not acked, in order, and forgets it once acked", () => {
    const outbox = new Outbox();
    expect(outbox.event(event(1))).toEqual({ action: "send", text: JSON.stringify(event(1)) });
    outbox.event(event(2));
    outbox.result(result(2));
    expect([...outbox.pending()]).toEqual([event(1), event(2), result(2)]);
    expect(outbox.jobs()).toEqual([job]);
    outbox.ack(job.job_id, job.attempt, 1, false);
    expect([...outbox.pending()]).toEqual([event(2), result(2)]);
    outbox.ack(job.job_id, job.attempt, 2, true);
    expect(outbox.unacked).toBe(0);
    expect(outbox.jobs()).toEqual([]);
  });

  it("fails a job whose frame cannot fit: a failure result counting only acked events replaces the rest", () => {
    const outbox = new Outbox();
    outbox.event(event(1));
    outbox.event(event(2));
    outbox.ack(job.job_id, job.attempt, 1, false);
    // 100,000 NULs: 600,000 bytes as JSON.
    const posted = outbox.event(event(3, "\0".repeat(100_000)));
    expect(posted).toMatchObject({
      action: "fail",
      error: { code: "agent_error", retryable: false },
      result: { type: "job.result", ...job, events: 1, outcome: { ok: false } },
    });
    expect(posted.action === "fail" && posted.error.message).toContain(`limit of ${LIMITS.agentFrameMaxBytes}`);
    expect([...outbox.pending()]).toEqual([posted.action === "fail" && posted.result]);
    // What the job sends after that is dropped; the failure result stays until acked.
    expect(outbox.event(event(4))).toEqual({ action: "drop" });
    expect(outbox.result(result(4))).toEqual({ action: "drop" });
    expect(outbox.unacked).toBe(1);
    outbox.ack(job.job_id, job.attempt, 1, true);
    expect(outbox.unacked).toBe(0);
  });

  it("fails a job whose result cannot fit", () => {
    const outbox = new Outbox();
    const posted = outbox.result(result(0, "\x1b".repeat(90_000)));
    expect(posted).toMatchObject({ action: "fail", result: { events: 0, outcome: { ok: false } } });
  });

  it("fails a job the edge refused a frame of, once", () => {
    const outbox = new Outbox();
    outbox.event(event(1));
    outbox.ack(job.job_id, job.attempt, 1, false);
    outbox.event(event(2));
    outbox.result(result(2));
    const failed = outbox.refused(job.job_id, job.attempt, "invalid_request", "invalid frame: event.message: too big");
    expect(failed).toMatchObject({
      error: {
        code: "agent_error",
        message: "the edge refused a frame of this job: invalid_request: invalid frame: event.message: too big",
      },
      result: { events: 1, outcome: { ok: false } },
    });
    expect([...outbox.pending()]).toEqual([failed?.result]);
    // Refusals of frames sent before the failure change nothing more.
    expect(outbox.refused(job.job_id, job.attempt, "invalid_request", "again")).toBeNull();
    expect(outbox.refused("other/job", 1, "payload_too_large", "x")).toBeNull();
  });
});
