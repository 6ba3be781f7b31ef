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

  it("counts what it holds in frames and bytes, and gives it back as the edge acks", () => {
    const outbox = new Outbox();
    outbox.event(event(1, "abc"));
    outbox.event(event(2, "é"));
    outbox.result(result(2));
    const bytes = [event(1, "abc"), event(2, "é"), result(2)].reduce(
      (sum, f) => sum + Buffer.byteLength(JSON.stringify(f), "utf8"),
      0,
    );
    expect(outbox.unacked).toBe(3);
    expect(outbox.unackedBytes).toBe(bytes);
    outbox.ack(job.job_id, job.attempt, 2, false);
    expect(outbox.unacked).toBe(1);
    outbox.ack(job.job_id, job.attempt, 2, true);
    expect([outbox.unacked, outbox.unackedBytes]).toEqual([0, 0]);
  });

  it("hands back the job whose frame passes the frame bound, dropping all it held, and drops its later frames", () => {
    const outbox = new Outbox({ maxFrames: 4, maxBytes: 1 << 20 });
    const other = { job_id: "p2/generating", attempt: 1 };
    outbox.event({ ...event(1), ...other });
    for (let seq = 1; seq <= 3; seq++) expect(outbox.event(event(seq)).action).toBe("send");
    const posted = outbox.event(event(4));
    expect(posted).toMatchObject({ action: "handback", ...job, error: { code: "agent_lost", retryable: true } });
    expect(posted.action === "handback" && posted.error.message).toContain("ATOMIC_OUTBOX_MAX_FRAMES=4");
    // The other job's frame stays; nothing of the handed-back job does, and it is not reported as held.
    expect([...outbox.pending()]).toEqual([{ ...event(1), ...other }]);
    expect(outbox.jobs()).toEqual([other]);
    expect(outbox.handedBack(job.job_id, job.attempt)).toBe(true);
    expect(outbox.event(event(5))).toEqual({ action: "drop" });
    expect(outbox.result(result(5))).toEqual({ action: "drop" });
    expect(outbox.unacked).toBe(1);
    // After the next welcome it is told to the edge once, then forgotten (unless still stopping).
    expect(outbox.takeHandedBack(new Set())).toEqual([job]);
    expect(outbox.takeHandedBack(new Set())).toEqual([]);
    expect(outbox.handedBack(job.job_id, job.attempt)).toBe(false);
  });

  it("hands back the job whose frame passes the byte bound; a bound never passes however much is posted", () => {
    const maxBytes = 64 * 1024;
    const outbox = new Outbox({ maxFrames: 1_000_000, maxBytes });
    const jobs = [0, 1, 2].map((n) => ({ job_id: `p${n}/generating`, attempt: 1 }));
    const handedBack: string[] = [];
    for (let seq = 1; seq <= 2000; seq++) {
      for (const j of jobs) {
        const posted = outbox.event({ ...event(seq, "x".repeat(100)), ...j });
        if (posted.action === "handback") handedBack.push(posted.job_id);
        expect(outbox.unackedBytes).toBeLessThanOrEqual(maxBytes);
      }
    }
    // Each job in turn filled it and was handed back; the outbox held little at the end.
    expect(handedBack.sort()).toEqual(jobs.map((j) => j.job_id));
    expect(outbox.unacked).toBe(0);
  });
});
