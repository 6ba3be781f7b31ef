import type { ExecuteRequest } from "../../../shared/src/index.ts";

/**
 * How long past its job's deadline a run waits before the edge answers it: the host-agent stops
 * the job at that deadline and its own timeout result normally arrives within this.
 */
export const RESULT_GRACE_MS = 5_000;

/** A run's job deadline: its timeout (300 s unless the request sets one) plus the host's slack. */
export function runDeadlineMs(request: ExecuteRequest, slackMs: number): number {
  return Math.ceil((request.limits?.timeout_seconds ?? 300) * 1000) + slackMs;
}
