import type { ClientEvent, StageEvent } from "../../../shared/src/protocol/client-events.ts";
import type { VerificationRound } from "../../../shared/src/protocol/verification.ts";
import { duration } from "./format.ts";

/** How a pipeline's events are shown while they arrive: the live terminal view or plain lines. */
export interface EventView {
  event(event: ClientEvent): void;
  /** A line about the command itself (cancelling, detaching). */
  note(line: string): void;
  /** Replaces the hint at the end of the progress line (what Ctrl-C does now). */
  hint(text: string): void;
  /** Stops redrawing; what is on screen stays. */
  close(): void;
}

/** "GENERATING", "VERIFYING round 1". */
export function stageLabel(event: Pick<StageEvent, "stage" | "round">): string {
  return event.round === undefined ? event.stage : `${event.stage} round ${event.round}`;
}

/** A stage event as a line: "VERIFYING round 0 completed in 412ms", "GENERATING retrying: timeout". */
export function stageLine(event: StageEvent): string {
  const took = event.duration_ms === undefined ? "" : ` in ${duration(event.duration_ms)}`;
  const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
  const reason = event.reason === undefined ? "" : `: ${event.reason}`;
  return `${stageLabel(event)} ${event.status}${took}${attempt}${reason}`;
}

/** One test round as a line, with its first failures. */
export function roundLines(round: VerificationRound): string[] {
  const tests = round.tests;
  const counts =
    tests === null ? "no test report" : `${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`;
  const head = `tests, round ${round.round}: ${round.passed ? "passed" : "failed"} (${counts}) in ${duration(round.duration_ms)}`;
  const failures = round.failures.slice(0, 3).map((f) => `  ✗ ${f.name}: ${f.message.split("\n")[0] ?? ""}`);
  const more = round.failures.length > 3 ? [`  … and ${round.failures.length - 3} more`] : [];
  const skipped = round.skipped_reason === undefined ? [] : [`  skipped: ${round.skipped_reason}`];
  return [head, ...failures, ...more, ...skipped];
}
