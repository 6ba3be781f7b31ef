import { describe, expect, it } from "vitest";
import { nextAttemptAt, retryPeriodMs, WEBHOOK_MAX_ATTEMPTS } from "./retry-schedule.ts";

describe("the webhook retry schedule", () => {
  it("backs off from 5 s to 3 h over eight attempts, then gives up", () => {
    const base = 5_000;
    const never = Number.MAX_SAFE_INTEGER;
    const waits: number[] = [];
    for (let made = 1; made < WEBHOOK_MAX_ATTEMPTS; made++) waits.push(nextAttemptAt(made, 0, base, never)!);
    expect(waits).toEqual([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000]);
    expect(nextAttemptAt(WEBHOOK_MAX_ATTEMPTS, 0, base, never)).toBeNull();
    expect(retryPeriodMs(base)).toBe(16_955_000);
  });

  it("never schedules an attempt at or after the pipeline's clean-up", () => {
    expect(nextAttemptAt(3, 1_000, 5_000, 1_000 + 120_000)).toBeNull();
    expect(nextAttemptAt(3, 1_000, 5_000, 1_000 + 120_001)).toBe(121_000);
  });
});
