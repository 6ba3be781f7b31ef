import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressReporter } from "./progress.ts";

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

function recorder() {
  const sent: Array<{ progress: number; message: string | undefined }> = [];
  const send = async (notification: ServerNotification) => {
    if (notification.method === "notifications/progress")
      sent.push({ progress: notification.params.progress, message: notification.params.message });
  };
  return { sent, send };
}

const base = { pipeline_id: "p1" };

describe("ProgressReporter", () => {
  it("sends a line after each silent interval, counting up, until stopped", async () => {
    const { sent, send } = recorder();
    const progress = new ProgressReporter("t", send, 1_000);
    await progress.event({
      type: "stage",
      seq: 2,
      ...base,
      stage: "VERIFYING",
      status: "started",
      attempt: 1,
      round: 0,
    });
    await vi.advanceTimersByTimeAsync(2_100);
    progress.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toEqual([
      { progress: 1, message: "VERIFYING round 0 started" },
      { progress: 2, message: "VERIFYING round 0 running for 1 s" },
      { progress: 3, message: "VERIFYING round 0 running for 2 s" },
    ]);
  });

  it("sends nothing without a progress token, and one line per burst of chunks", async () => {
    const silent = recorder();
    const none = new ProgressReporter(undefined, silent.send, 1_000);
    await none.event({ type: "queued", seq: 1, ...base, priority: "normal", position: 0 });
    await vi.advanceTimersByTimeAsync(3_000);
    none.stop();
    expect(silent.sent).toEqual([]);

    const { sent, send } = recorder();
    const progress = new ProgressReporter(7, send, 60_000);
    for (let seq = 1; seq <= 5; seq++)
      await progress.event({ type: "chunk", seq, ...base, delta: "ab", is_final: false });
    await progress.event({ type: "chunk", seq: 6, ...base, delta: "", is_final: true });
    progress.stop();
    expect(sent.map((s) => s.message)).toEqual([
      "QUEUED (1 tokens, 2 characters so far)",
      "QUEUED (6 tokens, 10 characters so far)",
    ]);
  });
});
