/**
 * What the fan-out client itself can see: the same subscribers, on the same machine, against a
 * bare `ws` broadcast server in a child process (bench/broadcast-server.ts) that sends as many
 * frames of the same shape, as far apart, as the pipeline did. The delivery spread measured here
 * is the floor this client and machine put under the pipeline's figures.
 */
import { performance as nodePerformance } from "node:perf_hooks";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Summary } from "./stats.ts";
import { awaitCloseFrames, delivery, openSubscribers } from "./subscribers.ts";

export interface FanOutBaselineResult {
  subscribers: number;
  events: number;
  got_every_event: number;
  delivery_ms: Summary;
  spread_ms: Summary;
  client_event_loop_utilization: number;
}

export async function fanOutBaseline(options: {
  subscribers: number;
  events: number;
  intervalMs: number;
  timeoutMs: number;
}): Promise<FanOutBaselineResult> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "broadcast-server.ts"), String(options.events), String(options.intervalMs)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the broadcast server did not start")), 10_000);
      createInterface({ input: child.stdout! }).once("line", (line) => {
        clearTimeout(timer);
        const parsed: unknown = JSON.parse(line);
        const value = typeof parsed === "object" && parsed !== null && "port" in parsed ? parsed.port : 0;
        resolve(Number(value));
      });
    });
    const { subscribers } = await openSubscribers(`ws://127.0.0.1:${port}/`, options.subscribers);
    const loopBefore = nodePerformance.eventLoopUtilization();
    child.stdin!.write("start\n");
    await awaitCloseFrames(subscribers, options.timeoutMs);
    const loop = nodePerformance.eventLoopUtilization(loopBefore);
    const seen = delivery(subscribers, 0);
    return {
      subscribers: options.subscribers,
      events: options.events + 1,
      got_every_event: seen.got_every_event,
      delivery_ms: seen.delivery_ms,
      spread_ms: seen.spread_ms,
      client_event_loop_utilization: Math.round(loop.utilization * 100) / 100,
    };
  } finally {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
