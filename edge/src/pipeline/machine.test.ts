import { describe, expect, it } from "vitest";
import type { StageName } from "../../../shared/src/index.ts";
import type { EventDraft, PipelineEffect } from "./effects.ts";
import { PipelineMachine, type MachineSettings } from "./machine.ts";
import { newPipelineRecord } from "./record.ts";

const settings: MachineSettings = {
  stageRetries: 1,
  maxAttempts: 3,
  stageTimeoutMs: (stage) => (stage === "PARSING" ? 30_000 : 300_000),
  agentWaitMs: 5_000,
  retentionMs: 3_600_000,
  webhookRetryBaseMs: 1_000,
};

const T0 = 1_000_000;

function machineWith(stages: StageName[] = ["PARSING", "GENERATING", "PACKAGING"]): PipelineMachine {
  const record = newPipelineRecord(
    { id: "p1", request_id: "r1", request: { prompt: "hello world in python", priority: "high" }, owner: null },
    stages,
    T0,
  );
  return new PipelineMachine(record, "", settings);
}

const types = (effects: PipelineEffect[]) => effects.map((effect) => effect.type);
const events = (effects: PipelineEffect[]): EventDraft[] =>
  effects.flatMap((effect) => (effect.type === "emit" ? [effect.event] : []));

function only<T extends PipelineEffect["type"]>(
  effects: PipelineEffect[],
  type: T,
): Extract<PipelineEffect, { type: T }> {
  const found = effects.filter((effect): effect is Extract<PipelineEffect, { type: T }> => effect.type === type);
  expect(found, `one ${type} effect in ${types(effects).join(", ")}`).toHaveLength(1);
  return found[0]!;
}

/** Queues and admits the pipeline; returns the epoch of its first stage. */
function start(machine: PipelineMachine): number {
  machine.queued(0, T0);
  return only(machine.admitted(T0 + 5), "start-stage").epoch;
}

/** Has the running stage (at `epoch`) ask for an `llm.generate` job; returns the job's spec. */
function dispatchGenerate(machine: PipelineMachine, epoch: number) {
  const step = { kind: "job", job: { kind: "llm.generate", payload: {}, mode: "wait" } } as const;
  return only(machine.stepped(epoch, step, T0), "place-job").spec;
}

/** Completes the running stage and returns the effects of the transition. */
function complete(machine: PipelineMachine, epoch: number, now: number): PipelineEffect[] {
  return machine.stepped(epoch, { kind: "complete" }, now);
}

describe("the pipeline machine", () => {
  it("queues, runs every stage in order, and finishes COMPLETED with the content and a summary", () => {
    const machine = machineWith();
    const queued = machine.queued(2, T0);
    expect(types(queued)).toEqual(["emit", "save"]);
    expect(events(queued)[0]).toMatchObject({ type: "queued", position: 2, priority: "high" });
    expect(machine.record.state).toBe("QUEUED");

    const admitted = machine.admitted(T0 + 10);
    expect(types(admitted)).toEqual(["emit", "save", "set-alarm", "start-stage"]);
    expect(events(admitted)[0]).toMatchObject({ type: "stage", stage: "PARSING", status: "started", attempt: 1 });
    expect(only(admitted, "set-alarm").at).toBe(T0 + 10 + 30_000);
    const parsing = only(admitted, "start-stage");
    expect(machine.record.admitted_at).toBe(T0 + 10);

    // PARSING asks for a job only a free agent may take; none is free: the stage decides what follows.
    const dispatched = machine.stepped(
      parsing.epoch,
      { kind: "job", job: { kind: "llm.parse", payload: {}, mode: "if-available" } },
      T0 + 20,
    );
    const place = only(dispatched, "place-job");
    expect(place.spec).toMatchObject({
      job_id: "p1/parsing",
      attempt: 1,
      owner: { kind: "pipeline", id: "p1" },
      kind: "llm.parse",
      mode: "if-available",
      priority: "high",
      wait_ms: 5_000,
      deadline_ms: 30_000 - 10,
    });
    const unplaced = machine.placed(place.epoch, place.spec, "unavailable");
    expect(only(unplaced, "stage-unplaced")).toMatchObject({ stage: "PARSING", error: { code: "no_agent" } });
    expect(machine.record.job).toBeNull();

    const toGenerating = complete(machine, parsing.epoch, T0 + 30);
    expect(events(toGenerating).map((e) => (e.type === "stage" ? `${e.stage} ${e.status}` : e.type))).toEqual([
      "PARSING completed",
      "GENERATING started",
    ]);
    // The next deadline is later than the alarm already set: no alarm write.
    expect(types(toGenerating)).not.toContain("set-alarm");
    const generating = only(toGenerating, "start-stage");

    const job = only(
      machine.stepped(
        generating.epoch,
        { kind: "job", job: { kind: "llm.generate", payload: {}, mode: "wait" } },
        T0 + 40,
      ),
      "place-job",
    ).spec;
    expect(machine.placed(generating.epoch, job, "placed")).toEqual([]);
    const first = machine.jobEvent(job, 1, { kind: "token", text: "print(" });
    expect(first.ack).toEqual({ status: "stored", last_seq: 1 });
    expect(types(first.effects)).toEqual(["stage-event", "save-progress"]);
    expect(events(machine.appendContent("print("))[0]).toMatchObject({ type: "chunk", delta: "print(" });
    const chunk = machine.appendContent("1)");
    expect(only(chunk, "emit").content).toBe("print(1)");
    expect(machine.record.content_chars).toBe(8);

    const result = machine.jobResult(job, 1, { ok: true, result: {} }, "agent-a");
    expect(result.ack).toEqual({ status: "stored", last_seq: 1 });
    expect(only(result.effects, "stage-result")).toMatchObject({ stage: "GENERATING", epoch: generating.epoch });
    expect(machine.stage?.agent_id).toBe("agent-a");

    const packaging = only(complete(machine, generating.epoch, T0 + 50), "start-stage");
    expect(packaging.stage).toBe("PACKAGING");
    const finished = complete(machine, packaging.epoch, T0 + 60);
    expect(machine.record.state).toBe("COMPLETED");
    expect(events(finished).at(-1)).toMatchObject({
      type: "result",
      state: "COMPLETED",
      content: "print(1)",
      processing_time_ms: 60,
    });
    expect(only(finished, "set-alarm").at).toBe(T0 + 60 + 3_600_000);
    expect(only(finished, "finished").summary).toEqual({
      pipeline_id: "p1",
      state: "COMPLETED",
      latency_ms: 60,
      finished_at: T0 + 60,
      queue_ms: 10,
      admitted: true,
      stages: [
        { stage: "PARSING", duration_ms: 20 },
        { stage: "GENERATING", duration_ms: 20 },
        { stage: "PACKAGING", duration_ms: 10 },
      ],
      verification: null,
    });
    // A late answer of a handler changes nothing once the pipeline has ended.
    expect(complete(machine, packaging.epoch, T0 + 70)).toEqual([]);
  });

  it("takes each job event once and in order: duplicates, gaps and other attempts are refused", () => {
    const machine = machineWith(["GENERATING"]);
    const epoch = start(machine);
    const job = dispatchGenerate(machine, epoch);
    const token = { kind: "token", text: "x" } as const;
    expect(machine.jobEvent(job, 1, token).ack.status).toBe("stored");
    expect(machine.jobEvent(job, 1, token)).toEqual({ ack: { status: "duplicate", last_seq: 1 }, effects: [] });
    expect(machine.jobEvent(job, 3, token)).toEqual({ ack: { status: "gap", last_seq: 1 }, effects: [] });
    expect(machine.jobEvent({ ...job, attempt: 2 }, 2, token).ack.status).toBe("stale");
    expect(machine.jobResult(job, 2, { ok: true, result: {} }, "a").ack).toEqual({
      status: "missing_events",
      last_seq: 1,
    });
    expect(machine.jobStatus(job)).toEqual({ current: true, last_seq: 1 });
    expect(machine.jobResult(job, 1, { ok: true, result: {} }, "a").ack.status).toBe("stored");
    expect(machine.jobStatus(job)).toEqual({ current: false, last_seq: 0 });
    expect(machine.jobResult(job, 1, { ok: true, result: {} }, "a").ack.status).toBe("stale");
  });

  it("retries a retryable failure up to ATOMIC_STAGE_RETRIES, then fails the pipeline with the error", () => {
    const machine = machineWith(["GENERATING", "PACKAGING"]);
    const epoch = start(machine);
    const error = { code: "agent_error", message: "broken stream" } as const;
    const retry = machine.stepped(epoch, { kind: "fail", error, retryable: true }, T0 + 100);
    expect(events(retry).map((e) => (e.type === "stage" ? `${e.status} ${e.attempt}` : e.type))).toEqual([
      "retrying 1",
      "started 2",
    ]);
    const second = only(retry, "start-stage");
    expect(machine.stepped(epoch, { kind: "complete" }, T0 + 110)).toEqual([]); // the first attempt's late answer
    const failed = machine.stepped(second.epoch, { kind: "fail", error, retryable: true }, T0 + 200);
    expect(machine.record.state).toBe("FAILED");
    expect(machine.record.error).toEqual(error);
    expect(events(failed).map((e) => e.type)).toEqual(["stage", "error"]);
    expect(events(failed)[1]).toMatchObject({ type: "error", code: "agent_error", error: "broken stream" });
    expect(machine.record.stages.map((s) => s.status)).toEqual(["failed", "skipped"]);
    expect(only(failed, "finished").summary.state).toBe("FAILED");
  });

  it("runs a stage again when its agent is lost, without spending retries, up to ATOMIC_MAX_ATTEMPTS", () => {
    const machine = machineWith(["GENERATING"]);
    let epoch = start(machine);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const job = dispatchGenerate(machine, epoch);
      expect(job.attempt).toBe(attempt);
      const lost = machine.jobLost(job, "the host-agent vanished", T0 + attempt);
      if (attempt < 3) {
        expect(events(lost)[0]).toMatchObject({ type: "stage", status: "restarted", attempt });
        epoch = only(lost, "start-stage").epoch;
      } else {
        expect(machine.record.error).toEqual({ code: "agent_lost", message: "the host-agent vanished" });
      }
    }
    expect(machine.record.stage_retries).toBe(0);
  });

  it("fails a stage past its deadline: the job is cancelled and the stage runs again", () => {
    const machine = machineWith(["GENERATING"]);
    const epoch = start(machine);
    const job = dispatchGenerate(machine, epoch);
    expect(machine.alarm(T0 + 1_000)).toEqual([{ type: "set-alarm", at: T0 + 5 + 300_000 }]);
    const late = machine.alarm(T0 + 5 + 300_000);
    expect(late[0]).toEqual({
      type: "cancel-job",
      job: { job_id: job.job_id, attempt: 1 },
      reason: "stage deadline passed",
    });
    expect(events(late)[0]).toMatchObject({ status: "retrying", reason: "timeout: GENERATING did not finish in time" });
    expect(machine.record.stage_attempt).toBe(2);
  });

  it("cancels: the running job is withdrawn, the pipeline ends CANCELLED, and nothing after changes it", () => {
    const machine = machineWith(["GENERATING"]);
    const epoch = start(machine);
    const job = dispatchGenerate(machine, epoch);
    const cancelled = machine.cancel("cancelled by client", T0 + 50);
    expect(types(cancelled)).toEqual(["cancel-job", "emit", "save", "set-alarm", "finished"]);
    expect(events(cancelled)[0]).toMatchObject({ type: "error", code: "cancelled" });
    expect(machine.record.stages[0]?.status).toBe("cancelled");
    expect(machine.cancel("again", T0 + 60)).toEqual([]);
    expect(machine.jobResult(job, 0, { ok: true, result: {} }, "a").ack.status).toBe("stale");
    expect(machine.jobLost(job, "gone", T0 + 70)).toEqual([]);
    expect(machine.alarm(T0 + 50 + 3_600_000)).toEqual([{ type: "purge" }]);
  });

  it("hands a job no agent took to its stage, once, and only for the attempt it waits for", () => {
    const machine = machineWith(["GENERATING"]);
    const epoch = start(machine);
    const job = dispatchGenerate(machine, epoch);
    const error = { code: "no_agent", message: "no host-agent could take it" } as const;
    expect(machine.unplaced(null, { ...job, attempt: 9 }, error)).toEqual([]);
    expect(only(machine.unplaced(null, job, error), "stage-unplaced").error).toEqual(error);
    expect(machine.unplaced(null, job, error)).toEqual([]);
  });

  it("reports a handler that threw as a retryable internal failure of its stage", () => {
    const machine = machineWith(["PACKAGING"]);
    const epoch = start(machine);
    const effects = machine.stageThrew(epoch, "Error: R2 unavailable", T0 + 1);
    expect(events(effects)[0]).toMatchObject({
      status: "retrying",
      reason: "internal: PACKAGING failed: Error: R2 unavailable",
    });
  });

  it("runs verification rounds as stages of their own: each inserted round starts next, with its own job and timing", () => {
    const machine = machineWith(["GENERATING", "VERIFYING", "PACKAGING"]);
    const generating = start(machine);
    machine.appendContent("```python main.py\nprint(1)\n```\n");
    const verifying = only(complete(machine, generating, T0 + 10), "start-stage");
    expect(verifying.stage).toBe("VERIFYING");
    // The first round's job, then a failed round asks for a repair.
    expect(
      only(
        machine.stepped(
          verifying.epoch,
          { kind: "job", job: { kind: "sandbox.verify", payload: {}, mode: "wait" } },
          T0 + 11,
        ),
        "place-job",
      ).spec.job_id,
    ).toBe("p1/verifying-0");
    const toRepair = machine.stepped(
      verifying.epoch,
      { kind: "complete", next: { stage: "REPAIRING", round: 1 } },
      T0 + 20,
    );
    const repairing = only(toRepair, "start-stage");
    expect(repairing.stage).toBe("REPAIRING");
    expect(
      events(toRepair).map((e) => (e.type === "stage" ? `${e.stage} ${e.status} ${e.round ?? "-"}` : e.type)),
    ).toEqual(["VERIFYING completed 0", "REPAIRING started 1"]);
    expect(machine.record.state).toBe("REPAIRING");
    // A repair is a new round of text: the running content starts again.
    expect(machine.content).toBe("");
    const repairJob = only(
      machine.stepped(
        repairing.epoch,
        { kind: "job", job: { kind: "llm.repair", payload: {}, mode: "wait" } },
        T0 + 21,
      ),
      "place-job",
    ).spec;
    expect(repairJob).toMatchObject({ job_id: "p1/repairing-1", attempt: 1, kind: "llm.repair" });
    machine.appendContent("```python main.py\nprint(2)\n```\n");
    const files = [{ path: "main.py", content: "print(2)\n", language: "python" }];
    expect(machine.setProgram(files, "rendered")).toEqual([{ type: "save-program", files, text: "rendered" }]);
    const again = only(
      machine.stepped(repairing.epoch, { kind: "complete", next: { stage: "VERIFYING", round: 1 } }, T0 + 30),
      "start-stage",
    );
    expect(again.stage).toBe("VERIFYING");
    expect(
      only(
        machine.stepped(
          again.epoch,
          { kind: "job", job: { kind: "sandbox.verify", payload: {}, mode: "wait" } },
          T0 + 31,
        ),
        "place-job",
      ).spec.job_id,
    ).toBe("p1/verifying-1");
    // The closing chunk carries the program's text itself: the repair's chunks no longer add up to it.
    const closing = events(machine.finishContent())[0];
    expect(closing).toMatchObject({ type: "chunk", is_final: true, delta: "", content: "rendered" });
    const packaging = only(machine.stepped(again.epoch, { kind: "complete" }, T0 + 40), "start-stage");
    const finished = complete(machine, packaging.epoch, T0 + 50);
    expect(events(finished).at(-1)).toMatchObject({ type: "result", content: "rendered" });
    expect(machine.record.stages.map((s) => `${s.stage}:${s.round ?? "-"}:${s.status}`)).toEqual([
      "GENERATING:-:completed",
      "VERIFYING:0:completed",
      "REPAIRING:1:completed",
      "VERIFYING:1:completed",
      "PACKAGING:-:completed",
    ]);
    expect(only(finished, "finished").summary.stages.map((s) => s.stage)).toEqual([
      "GENERATING",
      "VERIFYING",
      "REPAIRING",
      "VERIFYING",
      "PACKAGING",
    ]);
  });

  it("retries a round's failure within the round: its retries are its own, not the stage's before it", () => {
    const machine = machineWith(["VERIFYING", "PACKAGING"]);
    const first = start(machine);
    const repair = only(
      machine.stepped(first, { kind: "complete", next: { stage: "REPAIRING", round: 1 } }, T0 + 1),
      "start-stage",
    );
    const error = { code: "llm_error", message: "model overloaded" } as const;
    const retried = machine.stepped(repair.epoch, { kind: "fail", error, retryable: true }, T0 + 2);
    expect(events(retried)[0]).toMatchObject({ stage: "REPAIRING", status: "retrying", round: 1, attempt: 1 });
    expect(machine.record.stage_attempt).toBe(2);
    expect(only(retried, "start-stage").stage).toBe("REPAIRING");
  });
});

describe("the completion webhook", () => {
  function hooked(): PipelineMachine {
    const record = newPipelineRecord(
      {
        id: "0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
        request_id: "r1",
        request: { prompt: "tell me when done" },
        owner: null,
        webhook: { url: "https://hooks.example/done", origin: null },
      },
      ["GENERATING"],
      T0,
    );
    return new PipelineMachine(record, "", settings);
  }
  const attempt = (status: number | null) => ({ at: "", status, error: status === 200 ? null : "no", duration_ms: 1 });

  it("is due the moment the pipeline ends, by the alarm, and delivered by a 2xx", () => {
    const machine = hooked();
    start(machine);
    const end = T0 + 100;
    const effects = machine.cancel("cancelled by client", end);
    expect(only(effects, "set-alarm").at).toBe(end);
    expect(machine.record.webhook).toMatchObject({
      status: "pending",
      event: "pipeline.cancelled",
      delivery_id: "msg_0f1e2d3caaaabbbbcccc123456789abc",
      next_at: end,
    });
    expect(types(machine.alarm(end))).toEqual(["deliver-webhook"]);
    const delivered = machine.webhookAttempted(attempt(200), end + 10);
    expect(types(delivered)).toContain("save");
    expect(machine.record.webhook).toMatchObject({ status: "delivered", next_at: null });
    // The next alarm is the clean-up, not another attempt.
    expect(types(machine.alarm(end + 20))).not.toContain("deliver-webhook");
    expect(machine.webhookAttempted(attempt(200), end + 30)).toEqual([]);
  });

  it("retries on the backoff schedule and fails after the last attempt", () => {
    const machine = hooked();
    start(machine);
    machine.cancel("cancelled by client", T0);
    let now = T0;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      machine.webhookAttempted(attempt(i % 2 === 0 ? 500 : null), now);
      const next = machine.record.webhook!.next_at;
      if (next === null) break;
      waits.push(next - now);
      now = next;
    }
    // 1, 6, 24, 120, 360, 720 and 2160 times the base (1 s here), all within the retention (1 h).
    expect(waits).toEqual([1_000, 6_000, 24_000, 120_000, 360_000, 720_000, 2_160_000]);
    expect(machine.record.webhook).toMatchObject({ status: "failed", next_at: null });
    expect(machine.record.webhook!.attempts).toHaveLength(8);
  });
});
