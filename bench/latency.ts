/**
 * Sequential latency: the floor (GET /health, one Worker → SchedulerDO round trip), a whole
 * pipeline through POST /api/generate, and the LLM side alone (parse + streamed generate straight
 * to the Python agent over its Unix socket, as a host-agent does) to tell the parts apart.
 */
import { GenerateResponse } from "../shared/src/index.ts";
import { IpcPool } from "../host-agent/src/ipc/index.ts";
import { errorKey, jsonOf, type HttpClient } from "./http-client.ts";
import { countBy, summarize, type Summary } from "./stats.ts";

export interface SequentialResult {
  latency_ms: Summary;
  errors: Record<string, number>;
}

export interface GenerateLatencyResult extends SequentialResult {
  /** The pipeline's own processing_time_ms (from its creation to its end, measured in the PipelineDO). */
  processing_time_ms: Summary;
  /** Each stage's duration_ms, as the pipeline recorded it. */
  stage_ms: Record<string, Summary>;
}

export async function sequentialGets(
  http: HttpClient,
  path: string,
  count: number,
  expectStatus = 200,
): Promise<SequentialResult> {
  const samples: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await http.get(path);
    if (answer.status === expectStatus) samples.push(answer.ms);
    else errors.push(errorKey(answer));
  }
  return { latency_ms: summarize(samples), errors: countBy(errors) };
}

export async function sequentialGenerates(
  http: HttpClient,
  prompt: string,
  count: number,
): Promise<GenerateLatencyResult> {
  const samples: number[] = [];
  const processing: number[] = [];
  const stages = new Map<string, number[]>();
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await http.post("/api/generate", { prompt });
    const body = GenerateResponse.safeParse(jsonOf(answer));
    if (answer.status !== 200 || !body.success || body.data.state !== "COMPLETED") {
      errors.push(answer.status === 200 ? "200-not-completed" : errorKey(answer));
      continue;
    }
    samples.push(answer.ms);
    processing.push(body.data.processing_time_ms);
    for (const stage of body.data.stages) {
      if (stage.duration_ms === null) continue;
      const list = stages.get(stage.stage) ?? [];
      list.push(stage.duration_ms);
      stages.set(stage.stage, list);
    }
  }
  const stageMs: Record<string, Summary> = {};
  for (const [stage, list] of stages) stageMs[stage] = summarize(list);
  return {
    latency_ms: summarize(samples),
    errors: countBy(errors),
    processing_time_ms: summarize(processing),
    stage_ms: stageMs,
  };
}

/** parse + streamed generate, back to back, straight to the Python agent: what a pipeline asks of it. */
export async function sequentialIpc(socketPath: string, prompt: string, count: number): Promise<SequentialResult> {
  const pool = new IpcPool({ socketPath, size: 1, healthIntervalMs: 0 });
  const samples: number[] = [];
  const errors: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      try {
        const requirements = await pool.request("parse", { prompt, metadata: {} });
        await pool.stream("generate", { prompt, requirements, metadata: {} }, { onChunk: () => undefined });
        samples.push(performance.now() - started);
      } catch (error) {
        errors.push(error instanceof Error ? error.name : "error");
      }
    }
  } finally {
    await pool.close();
  }
  return { latency_ms: summarize(samples), errors: countBy(errors) };
}
