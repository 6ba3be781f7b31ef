import { afterEach, describe, expect, it, vi } from "vitest";
import type { JobKind } from "../../../shared/src/index.ts";
import { IpcError } from "../ipc/index.ts";
import { createLogger } from "../log.ts";
import { SandboxLimitError } from "../sandbox/errors.ts";
import { JobFailure } from "./job-failure.ts";
import { JobRunner, type JobContext, type JobHandler } from "./job-runner.ts";
import { RecordingReporter, assignment } from "./test-support.ts";

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A handler the test steers: each job waits until the test finishes or fails it, or until its
 * signal fires (then it fails with the signal's reason, as a well-behaved handler does).
 */
class Steered {
  readonly contexts = new Map<string, JobContext>();
  readonly #settle = new Map<string, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  readonly #ignoreSignal: boolean;
  calls = 0;

  constructor(options: { ignoreSignal?: boolean } = {}) {
    this.#ignoreSignal = options.ignoreSignal ?? false;
  }

  readonly handler: JobHandler = (ctx) => {
    this.calls += 1;
    const id = `${ctx.job.job_id}#${ctx.job.attempt}`;
    this.contexts.set(id, ctx);
    return new Promise((resolve, reject) => {
      this.#settle.set(id, { resolve, reject });
      if (!this.#ignoreSignal) ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
    });
  };

  ctx(jobId: string, attempt = 1): JobContext {
    const ctx = this.contexts.get(`${jobId}#${attempt}`);
    if (!ctx) throw new Error(`${jobId}#${attempt} has not started`);
    return ctx;
  }

  finish(jobId: string, value: unknown, attempt = 1): void {
    this.#settle.get(`${jobId}#${attempt}`)?.resolve(value);
  }

  fail(jobId: string, error: unknown, attempt = 1): void {
    this.#settle.get(`${jobId}#${attempt}`)?.reject(error);
  }
}

function setup(
  options: { capacity?: number; tokenFlushMs?: number; handlers?: Partial<Record<JobKind, JobHandler>> } = {},
) {
  const steered = new Steered();
  const reporter = new RecordingReporter();
  const runner = new JobRunner({
    capacity: options.capacity ?? 4,
    handlers: options.handlers ?? { "llm.generate": steered.handler },
    logger: createLogger("silent"),
    tokenFlushMs: options.tokenFlushMs ?? 0,
  });
  runner.attach(reporter);
  return { steered, reporter, runner };
}

describe("JobRunner: what the edge hears of a job", () => {
  it("sends job.accepted, then the job's events numbered 1, 2, 3, then a result that counts them", async () => {
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("p1/generating", { attempt: 2 }));
    const ctx = steered.ctx("p1/generating", 2);
    ctx.emit({ kind: "progress", message: "starting" });
    ctx.token("print(1)");
    ctx.emit({ kind: "output", stream: "stdout", text: "1\n" });
    steered.finish("p1/generating", { chars: 8 }, 2);
    await reporter.result("p1/generating");

    expect(reporter.sent).toEqual([
      { v: 1, type: "job.accepted", job_id: "p1/generating", attempt: 2 },
      {
        v: 1,
        type: "job.event",
        job_id: "p1/generating",
        attempt: 2,
        seq: 1,
        event: { kind: "progress", message: "starting" },
      },
      {
        v: 1,
        type: "job.event",
        job_id: "p1/generating",
        attempt: 2,
        seq: 2,
        event: { kind: "token", text: "print(1)" },
      },
      {
        v: 1,
        type: "job.event",
        job_id: "p1/generating",
        attempt: 2,
        seq: 3,
        event: { kind: "output", stream: "stdout", text: "1\n" },
      },
      {
        v: 1,
        type: "job.result",
        job_id: "p1/generating",
        attempt: 2,
        events: 3,
        outcome: { ok: true, result: { chars: 8 } },
      },
    ]);
    await vi.waitFor(() => expect(runner.running()).toEqual([]));
  });

  it("numbers each job's events on their own, while jobs interleave", async () => {
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("a"));
    runner.assign(assignment("b"));
    steered.ctx("a").token("a1");
    steered.ctx("b").token("b1");
    steered.ctx("b").token("b2");
    steered.ctx("a").token("a2");
    steered.ctx("b").token("b3");
    steered.finish("a", "A");
    steered.finish("b", "B");
    const [a, b] = await Promise.all([reporter.result("a"), reporter.result("b")]);

    expect(reporter.events("a").map((e) => [e.seq, e.event])).toEqual([
      [1, { kind: "token", text: "a1" }],
      [2, { kind: "token", text: "a2" }],
    ]);
    expect(reporter.events("b").map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(a.events).toBe(2);
    expect(b.events).toBe(3);
  });

  it("batches a job's tokens by time, and sends the text still waiting before the result", async () => {
    vi.useFakeTimers();
    const { steered, reporter, runner } = setup({ tokenFlushMs: 10 });
    runner.assign(assignment("batched"));
    const ctx = steered.ctx("batched");
    ctx.token("Hel");
    ctx.token("lo");
    await vi.advanceTimersByTimeAsync(9);
    expect(reporter.events("batched")).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    ctx.token(", ");
    ctx.token("world");
    steered.finish("batched", { chars: 12 });
    const result = await reporter.result("batched");

    expect(reporter.events("batched").map((e) => [e.seq, e.event])).toEqual([
      [1, { kind: "token", text: "Hello" }],
      [2, { kind: "token", text: ", world" }],
    ]);
    expect(result.events).toBe(2);
    expect(reporter.sent.at(-1)).toBe(result);
  });

  it("sends the events and tokens of a failed job before its failure, with the failure's code and flag", async () => {
    const { steered, reporter, runner } = setup({ tokenFlushMs: 60_000 });
    runner.assign(assignment("failing"));
    steered.ctx("failing").token("half a progr");
    steered.fail("failing", new JobFailure("llm_error", "the model stopped answering", true));
    await reporter.result("failing");

    expect(reporter.of("failing").slice(1)).toEqual([
      {
        v: 1,
        type: "job.event",
        job_id: "failing",
        attempt: 1,
        seq: 1,
        event: { kind: "token", text: "half a progr" },
      },
      {
        v: 1,
        type: "job.result",
        job_id: "failing",
        attempt: 1,
        events: 1,
        outcome: { ok: false, error: { code: "llm_error", message: "the model stopped answering", retryable: true } },
      },
    ]);
  });

  it("reports what a handler throws with the code and retryable flag the thrower gave, else as internal", async () => {
    const { steered, reporter, runner } = setup();
    const cases: Array<[string, unknown, { code: string; retryable: boolean; message: string }]> = [
      [
        "ipc",
        new IpcError("timeout", "the LLM agent did not answer within 100 ms"),
        {
          code: "timeout",
          retryable: true,
          message: "the LLM agent did not answer within 100 ms",
        },
      ],
      [
        "sandbox",
        new SandboxLimitError("cpu_millicores", 9000, 2000),
        {
          code: "invalid_request",
          retryable: false,
          message: "limits.cpu_millicores = 9000 is above this host's maximum of 2000",
        },
      ],
      [
        "bug",
        new TypeError("cannot read properties of undefined"),
        {
          code: "internal",
          retryable: false,
          message: "host-agent error: cannot read properties of undefined",
        },
      ],
    ];
    for (const [id, thrown, expected] of cases) {
      runner.assign(assignment(id));
      steered.fail(id, thrown);
      const result = await reporter.result(id);
      expect(result.outcome).toEqual({ ok: false, error: expected });
    }
  });
});

describe("JobRunner: deadlines and cancellation", () => {
  it("aborts a job at its deadline and reports a retryable timeout", async () => {
    vi.useFakeTimers();
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("slow", { kind: "llm.generate", deadline_ms: 5_000 }));
    const { signal } = steered.ctx("slow");
    await vi.advanceTimersByTimeAsync(4_999);
    expect(signal.aborted).toBe(false);
    expect(reporter.of("slow").map((f) => f.type)).toEqual(["job.accepted"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal.aborted).toBe(true);
    const result = await reporter.result("slow");

    expect(result.outcome).toEqual({
      ok: false,
      error: { code: "timeout", message: "llm.generate ran past its deadline of 5000 ms", retryable: true },
    });
    expect(runner.running()).toEqual([]);
  });

  it("reports a job that returns after its deadline as timed out, not as a success", async () => {
    vi.useFakeTimers();
    const steered = new Steered({ ignoreSignal: true });
    const { reporter, runner } = setup({ handlers: { export: steered.handler } });
    runner.assign(assignment("late", { kind: "export", deadline_ms: 1_000 }));
    await vi.advanceTimersByTimeAsync(1_000);
    steered.finish("late", { type: "filesystem", path: "/tmp/x", files: 1 });
    const result = await reporter.result("late");

    expect(result.outcome).toEqual({
      ok: false,
      error: { code: "timeout", message: "export ran past its deadline of 1000 ms", retryable: true },
    });
  });

  it("on job.cancel: fires the job's signal, has the link forget it, and sends nothing more for it", async () => {
    const { steered, reporter, runner } = setup({ capacity: 1, tokenFlushMs: 60_000 });
    runner.assign(assignment("doomed"));
    const ctx = steered.ctx("doomed");
    ctx.emit({ kind: "progress", message: "before" });
    ctx.token("still batching");
    runner.cancel("doomed", 1, "the client cancelled the pipeline");

    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBeInstanceOf(JobFailure);
    expect(ctx.signal.reason).toMatchObject({ code: "cancelled", message: "the client cancelled the pipeline" });
    ctx.emit({ kind: "progress", message: "after" });
    // The slot is free once the handler has stopped: a new job is taken.
    await vi.waitFor(() => expect(runner.running()).toEqual([]));
    runner.assign(assignment("next"));

    expect(reporter.of("doomed")).toEqual([
      { v: 1, type: "job.accepted", job_id: "doomed", attempt: 1 },
      { v: 1, type: "job.event", job_id: "doomed", attempt: 1, seq: 1, event: { kind: "progress", message: "before" } },
      { type: "forget", job_id: "doomed", attempt: 1 },
    ]);
    expect(reporter.of("next").map((f) => f.type)).toEqual(["job.accepted"]);
  });

  it("on job.cancel of a job not running here, only has the link forget it", () => {
    const { reporter, runner } = setup();
    runner.assign(assignment("other"));
    runner.cancel("ghost", 3, "the edge no longer wants this job");
    expect(reporter.sent.slice(1)).toEqual([{ type: "forget", job_id: "ghost", attempt: 3 }]);
    expect(runner.running()).toEqual([{ job_id: "other", attempt: 1 }]);
  });

  it("cancels only the attempt named", async () => {
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("twice", { attempt: 1 }));
    runner.assign(assignment("twice", { attempt: 2 }));
    runner.cancel("twice", 1, "superseded");
    expect(steered.ctx("twice", 1).signal.aborted).toBe(true);
    expect(steered.ctx("twice", 2).signal.aborted).toBe(false);
    steered.finish("twice", "done", 2);
    const result = await reporter.result("twice");
    expect(result).toMatchObject({ attempt: 2, outcome: { ok: true, result: "done" } });
  });
});

describe("JobRunner: which jobs it takes", () => {
  it("ignores a second job.assign of an attempt it is running, and runs a new attempt beside it", () => {
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("dup"));
    runner.assign(assignment("dup"));
    runner.assign(assignment("dup", { attempt: 2 }));
    expect(steered.calls).toBe(2);
    expect(reporter.sent).toEqual([
      { v: 1, type: "job.accepted", job_id: "dup", attempt: 1 },
      { v: 1, type: "job.accepted", job_id: "dup", attempt: 2 },
    ]);
    expect(runner.running()).toEqual([
      { job_id: "dup", attempt: 1 },
      { job_id: "dup", attempt: 2 },
    ]);
  });

  it("rejects a job when every slot is busy, and takes one again once a slot frees", async () => {
    const { steered, reporter, runner } = setup({ capacity: 2 });
    runner.assign(assignment("one"));
    runner.assign(assignment("two"));
    runner.assign(assignment("three"));
    expect(reporter.of("three")).toEqual([
      { v: 1, type: "job.rejected", job_id: "three", attempt: 1, reason: "all 2 slots are busy" },
    ]);
    expect(steered.calls).toBe(2);
    steered.finish("one", "ok");
    await reporter.result("one");
    await vi.waitFor(() => expect(runner.running()).toEqual([{ job_id: "two", attempt: 1 }]));
    runner.assign(assignment("four"));
    expect(reporter.of("four")).toEqual([{ v: 1, type: "job.accepted", job_id: "four", attempt: 1 }]);
    expect(runner.running()).toEqual([
      { job_id: "two", attempt: 1 },
      { job_id: "four", attempt: 1 },
    ]);
  });

  it("rejects a kind it has no handler for, and names only the kinds it can run", () => {
    const steered = new Steered();
    const { reporter, runner } = setup({
      handlers: { "llm.parse": steered.handler, "sandbox.execute": undefined, export: steered.handler },
    });
    expect(runner.kinds).toEqual(["llm.parse", "export"]);
    runner.assign(assignment("code", { kind: "sandbox.execute" }));
    expect(reporter.sent).toEqual([
      {
        v: 1,
        type: "job.rejected",
        job_id: "code",
        attempt: 1,
        reason: "this host cannot run sandbox.execute jobs",
      },
    ]);
    expect(steered.calls).toBe(0);
  });

  it("refuses jobs before it is attached to a link", () => {
    const runner = new JobRunner({ capacity: 1, handlers: {}, logger: createLogger("silent") });
    expect(() => runner.assign(assignment("early"))).toThrow("JobRunner.attach() must be called before jobs arrive");
  });
});

describe("JobRunner: drain", () => {
  it("takes no new job, lets running ones finish until the timeout, then hands the rest back", async () => {
    vi.useFakeTimers();
    const { steered, reporter, runner } = setup();
    runner.assign(assignment("quick"));
    runner.assign(assignment("endless"));
    const drained = runner.drain(1_000);
    runner.assign(assignment("newcomer"));
    expect(reporter.of("newcomer")).toEqual([
      { v: 1, type: "job.rejected", job_id: "newcomer", attempt: 1, reason: "draining" },
    ]);
    steered.finish("quick", "finished in time");
    await reporter.result("quick");
    await vi.advanceTimersByTimeAsync(1_000);

    expect(await drained).toEqual({ finished: 1, handedBack: 1 });
    const { signal } = steered.ctx("endless");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: "cancelled", retryable: true });
    // The edge places a handed-back job elsewhere; this host says nothing more about it.
    await vi.waitFor(() => expect(runner.running()).toEqual([]));
    expect(reporter.of("endless")).toEqual([
      { v: 1, type: "job.accepted", job_id: "endless", attempt: 1 },
      { type: "forget", job_id: "endless", attempt: 1 },
      {
        v: 1,
        type: "job.rejected",
        job_id: "endless",
        attempt: 1,
        reason: "host-agent shutting down; run it elsewhere",
      },
    ]);
  });

  it("resolves at once when nothing runs", async () => {
    const { reporter, runner } = setup();
    expect(await runner.drain(60_000)).toEqual({ finished: 0, handedBack: 0 });
    expect(reporter.sent).toEqual([]);
  });
});
