import type { StageTiming } from "../../shared/src/protocol/api.ts";
import type { StageEvent } from "../../shared/src/protocol/client-events.ts";
import type { StageName } from "../../shared/src/protocol/common.ts";

export type StageStatus = StageTiming["status"];

/** One line of the timeline: a stage, or one round of VERIFYING or REPAIRING. */
export interface StageRow {
  stage: StageName;
  round: number | null;
  status: StageStatus;
  attempts: number;
  duration_ms: number | null;
  /** Why it was skipped, retried or failed, when an event said. */
  reason: string | null;
}

const EVENT_STATUS: Record<StageEvent["status"], StageStatus> = {
  started: "running",
  retrying: "running",
  restarted: "running",
  completed: "completed",
  skipped: "skipped",
  failed: "failed",
};

function sameRow(row: StageRow, stage: StageName, round: number | null): boolean {
  return row.stage === stage && row.round === round;
}

/** The rows of a pipeline view's (or a result's) stage timings. */
export function rowsFromTimings(timings: readonly StageTiming[]): StageRow[] {
  return timings.map((timing) => ({
    stage: timing.stage,
    round: timing.round ?? null,
    status: timing.status,
    attempts: timing.attempts,
    duration_ms: timing.duration_ms,
    reason: null,
  }));
}

/**
 * The timeline after one `stage` event: the row of its stage and round takes the event's status,
 * attempt and duration, or is added at the end. Replayed events that the rows already reflect
 * leave them as they are, except for a status the event log moves on from later anyway.
 */
export function applyStageEvent(rows: readonly StageRow[], event: StageEvent): StageRow[] {
  const round = event.round ?? null;
  const status = EVENT_STATUS[event.status];
  const index = rows.findIndex((row) => sameRow(row, event.stage, round));
  const before = index === -1 ? null : rows[index];
  const row: StageRow = {
    stage: event.stage,
    round,
    status,
    attempts: Math.max(before?.attempts ?? 0, event.attempt),
    duration_ms: event.duration_ms ?? (status === "running" ? null : (before?.duration_ms ?? null)),
    reason: event.reason ?? (status === "running" && event.status === "started" ? null : (before?.reason ?? null)),
  };
  if (index === -1) return [...rows, row];
  return rows.map((existing, at) => (at === index ? row : existing));
}

/** A row's label: the stage, and the round of VERIFYING and REPAIRING. */
export function rowLabel(row: StageRow): string {
  return row.round === null ? row.stage : `${row.stage} (round ${row.round})`;
}
