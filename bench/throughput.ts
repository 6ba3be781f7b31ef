/**
 * Closed-loop load: `concurrency` clients each send POST /api/generate (synchronous: the answer
 * comes when the pipeline has ended) and send the next as soon as it is answered. The counting
 * window opens once the load is steady: after the ramp, and not before `concurrency` answers
 * have come (one turnover: at high concurrency the first answers take seconds). Pipelines that
 * end inside the window are counted. Then no more are sent and the ones in flight finish (not counted) so the
 * next level starts clean.
 */
import { errorKey, type HttpClient } from "./http-client.ts";
import { countBy, summarize, type Summary } from "./stats.ts";

export interface ThroughputResult {
  concurrency: number;
  window_s: number;
  /** Pipelines answered 200 inside the window. */
  completed: number;
  /** Pipelines answered 200 over the whole level, ramp and drain included. */
  completed_total: number;
  /** Failed answers inside the window, by status (or network error). */
  errors: Record<string, number>;
  pipelines_per_min: number;
  /**
   * completed_total over the whole level (ramp and drain included), per minute. At high
   * concurrency pipelines end in waves, and a window catches a varying number of them; this
   * rate averages over the waves.
   */
  pipelines_per_min_whole_level: number;
  /** Latency of the requests that completed inside the window. */
  latency_ms: Summary;
  /** Seconds from the start of the load to the opening of the window. */
  ramp_s: number;
  /** Seconds the level took in all, ramp and drain included. */
  total_s: number;
}

export async function closedLoop(
  http: HttpClient,
  options: { concurrency: number; rampS: number; windowS: number; prompt: string },
): Promise<ThroughputResult> {
  const started = performance.now();
  const rampEnd = started + options.rampS * 1000;
  // Even a level that never settles is measured: the window opens at the latest after this.
  const latestStart = started + Math.max(options.rampS, 60) * 1000;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let answers = 0;
  const latencies: number[] = [];
  let completedTotal = 0;
  const errors: string[] = [];
  const body = { prompt: options.prompt };
  const openWindowIfSteady = (now: number) => {
    if (windowStart !== Number.POSITIVE_INFINITY) return;
    if ((now >= rampEnd && answers >= options.concurrency) || now >= latestStart) {
      windowStart = now;
      windowEnd = now + options.windowS * 1000;
    }
  };
  const timer = setInterval(() => openWindowIfSteady(performance.now()), 50);

  const client = async (): Promise<void> => {
    while (performance.now() < windowEnd) {
      const answer = await http.post("/api/generate", body);
      answers += 1;
      if (answer.status === 200) completedTotal += 1;
      openWindowIfSteady(answer.endedAt);
      if (answer.endedAt <= windowStart || answer.endedAt > windowEnd) continue;
      if (answer.status === 200) latencies.push(answer.ms);
      else errors.push(errorKey(answer));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  clearInterval(timer);
  return {
    concurrency: options.concurrency,
    window_s: options.windowS,
    completed: latencies.length,
    completed_total: completedTotal,
    errors: countBy(errors),
    pipelines_per_min: Math.round((latencies.length / options.windowS) * 60),
    latency_ms: summarize(latencies),
    pipelines_per_min_whole_level: Math.round((completedTotal / ((performance.now() - started) / 1000)) * 60),
    ramp_s: Math.round((windowStart - started) / 100) / 10,
    total_s: Math.round((performance.now() - started) / 100) / 10,
  };
}
