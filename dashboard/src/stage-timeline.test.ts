import { describe, expect, it } from "vitest";
import type { StageEvent } from "../../shared/src/protocol/client-events.ts";
import { applyStageEvent, rowLabel, rowsFromTimings } from "./stage-timeline.ts";

function stage(partial: Partial<StageEvent> & Pick<StageEvent, "stage" | "status">): StageEvent {
  return { type: "stage", seq: 1, pipeline_id: "p", attempt: 1, ...partial };
}

describe("stage timeline", () => {
  it("starts from the view's timings", () => {
    const rows = rowsFromTimings([
      {
        stage: "PARSING",
        status: "completed",
        attempts: 1,
        started_at: "2026-12-01T00:00:00Z",
        duration_ms: 3,
        agent_id: null,
      },
      {
        stage: "VERIFYING",
        status: "running",
        attempts: 1,
        started_at: null,
        duration_ms: null,
        agent_id: "a",
        round: 0,
      },
    ]);
    expect(rows.map(rowLabel)).toEqual(["PARSING", "VERIFYING (round 0)"]);
    expect(rows[0]).toMatchObject({ status: "completed", duration_ms: 3 });
  });

  it("folds live events: new rows at the end, updates in place", () => {
    let rows = applyStageEvent([], stage({ stage: "PARSING", status: "started" }));
    rows = applyStageEvent(rows, stage({ stage: "PARSING", status: "completed", duration_ms: 4 }));
    rows = applyStageEvent(rows, stage({ stage: "GENERATING", status: "started" }));
    rows = applyStageEvent(rows, stage({ stage: "GENERATING", status: "retrying", attempt: 2, reason: "agent lost" }));
    rows = applyStageEvent(rows, stage({ stage: "VERIFYING", status: "started", round: 0 }));
    rows = applyStageEvent(rows, stage({ stage: "VERIFYING", status: "failed", round: 0, duration_ms: 900 }));
    rows = applyStageEvent(rows, stage({ stage: "REPAIRING", status: "started", round: 1 }));
    rows = applyStageEvent(rows, stage({ stage: "VERIFYING", status: "started", round: 1 }));
    expect(rows.map(rowLabel)).toEqual([
      "PARSING",
      "GENERATING",
      "VERIFYING (round 0)",
      "REPAIRING (round 1)",
      "VERIFYING (round 1)",
    ]);
    expect(rows[0]).toMatchObject({ status: "completed", duration_ms: 4, attempts: 1 });
    expect(rows[1]).toMatchObject({ status: "running", attempts: 2, reason: "agent lost" });
    expect(rows[2]).toMatchObject({ status: "failed", duration_ms: 900 });
  });

  it("keeps the higher attempt count when events replay", () => {
    let rows = applyStageEvent([], stage({ stage: "PARSING", status: "retrying", attempt: 3 }));
    rows = applyStageEvent(rows, stage({ stage: "PARSING", status: "completed", attempt: 1, duration_ms: 1 }));
    expect(rows[0]).toMatchObject({ attempts: 3, status: "completed" });
  });
});
