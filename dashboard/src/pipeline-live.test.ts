import { describe, expect, it } from "vitest";
import type { PipelineView } from "../../shared/src/protocol/api.ts";
import type { VerificationRound } from "../../shared/src/protocol/verification.ts";
import { applyEvent, fromView } from "./pipeline-live.ts";

const view: PipelineView = {
  pipeline_id: "p1",
  request_id: "r1",
  state: "QUEUED",
  stage: null,
  progress: 0,
  priority: "normal",
  pool: "default",
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z",
  finished_at: null,
  processing_time_ms: null,
  stages: [],
  last_seq: 1,
  requirements: null,
  content_chars: 0,
  artifacts: null,
  verified: false,
  verification: null,
  export: null,
  error: null,
  links: { self: "", events_ws: "", events_sse: "", cancel: "", artifacts: "" },
  webhook: null,
};

function round(n: number, passed: boolean): VerificationRound {
  return {
    round: n,
    passed,
    steps: [],
    tests: { passed: passed ? 3 : 1, failed: passed ? 0 : 2, skipped: 0 },
    failures: passed ? [] : [{ name: "test_a", message: "assert 1 == 2" }],
    report: "junit",
    duration_ms: 10,
    cpu_ms: null,
    peak_memory_bytes: null,
  };
}

describe("pipeline live fold", () => {
  it("streams chunks: the running content when sent, the deltas appended otherwise", () => {
    let live = fromView(view);
    live = applyEvent(live, { type: "chunk", seq: 1, pipeline_id: "p1", delta: "def ", is_final: false });
    live = applyEvent(live, { type: "chunk", seq: 2, pipeline_id: "p1", delta: "f", is_final: false });
    expect(live.output).toBe("def f");
    live = applyEvent(live, {
      type: "chunk",
      seq: 3,
      pipeline_id: "p1",
      delta: "():",
      content: "def f():",
      is_final: false,
    });
    expect(live.output).toBe("def f():");
    expect(live.lastSeq).toBe(3);
  });

  it("ignores an event it folded already", () => {
    let live = fromView(view);
    live = applyEvent(live, { type: "chunk", seq: 1, pipeline_id: "p1", delta: "a", is_final: false });
    live = applyEvent(live, { type: "chunk", seq: 1, pipeline_id: "p1", delta: "a", is_final: false });
    expect(live.output).toBe("a");
  });

  it("tracks state, stages and verification rounds", () => {
    let live = fromView(view);
    live = applyEvent(live, { type: "queued", seq: 1, pipeline_id: "p1", priority: "normal", position: 2 });
    expect(live).toMatchObject({ state: "QUEUED", queuePosition: 2 });
    live = applyEvent(live, {
      type: "stage",
      seq: 2,
      pipeline_id: "p1",
      stage: "VERIFYING",
      status: "started",
      attempt: 1,
      round: 0,
    });
    expect(live).toMatchObject({ state: "VERIFYING", queuePosition: null });
    live = applyEvent(live, { type: "verification", seq: 3, pipeline_id: "p1", round: round(1, true) });
    live = applyEvent(live, { type: "verification", seq: 4, pipeline_id: "p1", round: round(0, false) });
    expect(live.rounds.map((r) => r.round)).toEqual([0, 1]);
  });

  it("ends on a result or an error", () => {
    const base = fromView(view);
    const done = applyEvent(base, {
      type: "result",
      seq: 5,
      pipeline_id: "p1",
      state: "COMPLETED",
      content: "print(1)",
      artifacts: null,
      export: null,
      verified: false,
      verification: null,
      processing_time_ms: 12,
      stages: [],
    });
    expect(done).toMatchObject({ state: "COMPLETED", output: "print(1)" });
    const cancelled = applyEvent(base, {
      type: "error",
      seq: 2,
      pipeline_id: "p1",
      error: "cancelled",
      code: "cancelled",
    });
    expect(cancelled).toMatchObject({ state: "CANCELLED", error: { code: "cancelled", message: "cancelled" } });
    const frame = applyEvent(base, { type: "error", error: "bad frame", code: "invalid_request" });
    expect(frame.state).toBe("QUEUED");
  });

  it("keeps the ended state of the view while the pipeline's earlier events replay", () => {
    const failedView: PipelineView = {
      ...view,
      state: "FAILED",
      error: { code: "no_agent", message: "no host-agent could take the job" },
    };
    let live = fromView(failedView);
    live = applyEvent(live, { type: "queued", seq: 1, pipeline_id: "p1", priority: "normal", position: 1 });
    live = applyEvent(live, {
      type: "stage",
      seq: 2,
      pipeline_id: "p1",
      stage: "GENERATING",
      status: "started",
      attempt: 1,
      round: 0,
    });
    expect(live).toMatchObject({ state: "FAILED", lastSeq: 2, error: { code: "no_agent" } });
    live = applyEvent(live, { type: "error", seq: 3, pipeline_id: "p1", error: "no agent", code: "no_agent" });
    expect(live).toMatchObject({ state: "FAILED", lastSeq: 3 });
  });
});
