import type { ErrorBody } from "../../shared/src/errors.ts";
import type { PipelineView } from "../../shared/src/protocol/api.ts";
import type { ClientEvent, ResultEvent } from "../../shared/src/protocol/client-events.ts";
import { FINAL_STATES, type PipelineState } from "../../shared/src/protocol/common.ts";
import type { Verification, VerificationRound } from "../../shared/src/protocol/verification.ts";
import { applyStageEvent, rowsFromTimings, type StageRow } from "./stage-timeline.ts";

/** What the pipeline page shows: the view it read, folded with the events that followed. */
export interface LivePipeline {
  state: PipelineState;
  stages: StageRow[];
  /** The output so far: the running content of the chunks, or their deltas appended. */
  output: string;
  /** The last seq folded in: the `after` of a resumed stream. */
  lastSeq: number;
  queuePosition: number | null;
  rounds: VerificationRound[];
  verified: boolean;
  verification: Verification | null;
  result: ResultEvent | null;
  error: { code: string; message: string } | null;
}

function errorOf(body: ErrorBody | null): LivePipeline["error"] {
  return body === null ? null : { code: body.code, message: body.message };
}

/** The page before any event: the view's state and stages, no output yet (events replay it). */
export function fromView(view: PipelineView): LivePipeline {
  return {
    state: view.state,
    stages: rowsFromTimings(view.stages),
    output: "",
    lastSeq: 0,
    queuePosition: null,
    rounds: view.verification?.rounds ?? [],
    verified: view.verified,
    verification: view.verification,
    result: null,
    error: errorOf(view.error),
  };
}

/**
 * The page after one event. Events at or before `lastSeq` were folded in already (a stream that
 * resumed may repeat one) and change nothing.
 */
export function applyEvent(live: LivePipeline, event: ClientEvent): LivePipeline {
  const next = foldEvent(live, event);
  // The page starts from the view and replays the events from the first: a pipeline the view
  // shows as ended keeps that state while its earlier events replay (no Cancel button flashes).
  return FINAL_STATES.has(live.state) && !FINAL_STATES.has(next.state) ? { ...next, state: live.state } : next;
}

function foldEvent(live: LivePipeline, event: ClientEvent): LivePipeline {
  if (event.seq !== undefined && event.seq <= live.lastSeq) return live;
  const next: LivePipeline = { ...live, lastSeq: event.seq ?? live.lastSeq };
  switch (event.type) {
    case "queued":
      return { ...next, state: "QUEUED", queuePosition: event.position };
    case "stage":
      return {
        ...next,
        stages: applyStageEvent(live.stages, event),
        state: event.status === "started" ? event.stage : live.state,
        queuePosition: null,
      };
    case "chunk":
      return { ...next, output: event.content ?? live.output + event.delta };
    case "verification": {
      const rounds = live.rounds.filter((round) => round.round !== event.round.round);
      rounds.push(event.round);
      rounds.sort((a, b) => a.round - b.round);
      return { ...next, rounds };
    }
    case "result":
      return {
        ...next,
        state: event.state,
        output: event.content,
        stages: rowsFromTimings(event.stages),
        verified: event.verified,
        verification: event.verification,
        rounds: event.verification?.rounds ?? live.rounds,
        result: event,
      };
    case "error":
      return {
        ...next,
        // An error without a seq is about one frame of this client, not the pipeline's end.
        state: event.seq === undefined ? live.state : event.code === "cancelled" ? "CANCELLED" : "FAILED",
        error: { code: event.code, message: event.error },
      };
  }
}
