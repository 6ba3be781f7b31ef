/**
 * One task through the real stack: `POST /api/generate` (async, verify on), its events followed
 * over SSE (resumed with `?after=` when a stream ends early), its view and its final files.
 */
import { createHash } from "node:crypto";
import {
  GenerateAccepted,
  PipelineView,
  type ClientEvent,
  type Requirements,
  type SandboxFile,
} from "../../shared/src/index.ts";
import { finalEvent, takeSseEvents } from "./events.ts";
import type { EvalTask } from "./task.ts";

export interface PipelineRun {
  pipeline_id: string | null;
  /** Every event, in the order received (a resumed stream may repeat some). */
  events: ClientEvent[];
  /** From sending the request to receiving its result or error event, on the client's clock. */
  wall_ms: number;
  view: PipelineView | null;
  requirements: Requirements | null;
  /** The packaged files (empty when the pipeline did not complete). */
  final_files: SandboxFile[];
  /** Why the run could not be followed to its end, if so. */
  error: string | null;
}

const RETRYABLE = new Set([429, 503]);

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Starts the pipeline; retries while the edge answers 429/503 (queue full, no agent yet). */
async function start(base: string, body: unknown, deadline: number): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await json(response);
    if (response.status === 202) {
      const accepted = GenerateAccepted.safeParse(answer);
      if (!accepted.success) throw new Error("POST /api/generate answered 202 with a body that does not parse");
      return accepted.data.pipeline_id;
    }
    if (!RETRYABLE.has(response.status) || Date.now() > deadline || attempt >= 20) {
      throw new Error(`POST /api/generate answered ${response.status}: ${JSON.stringify(answer).slice(0, 400)}`);
    }
    const retryAfter = Number(response.headers.get("retry-after") ?? "1");
    await new Promise((resolve) => setTimeout(resolve, Math.min(10, Math.max(0.2, retryAfter)) * 1000));
  }
}

/**
 * Follows the pipeline's events until its result or error event: one SSE stream, resumed after
 * the last event seen when it ends early. Chunks come as deltas only (`mode=delta`).
 */
async function follow(
  base: string,
  id: string,
  deadline: number,
  onEvent: (event: ClientEvent) => void,
): Promise<{ events: ClientEvent[]; endedAt: number | null }> {
  const events: ClientEvent[] = [];
  let lastSeq = 0;
  // Set when the result or error event arrives; whatever leaving the stream throws after that changes nothing.
  let endedAt: number | null = null;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * attempt)));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(1, deadline - Date.now()));
    try {
      const response = await fetch(
        `${base}/api/pipelines/${encodeURIComponent(id)}/events?after=${lastSeq}&mode=delta`,
        {
          headers: { Accept: "text/event-stream" },
          signal: controller.signal,
        },
      );
      if (response.status === 204) return { events, endedAt: null };
      if (response.status !== 200 || response.body === null) continue;
      const decoder = new TextDecoder();
      let buffer = "";
      stream: for await (const bytes of response.body) {
        buffer += decoder.decode(bytes as Uint8Array, { stream: true });
        const taken = takeSseEvents(buffer);
        buffer = taken.rest;
        for (const event of taken.events) {
          if (event.seq !== undefined && event.seq <= lastSeq) continue;
          lastSeq = event.seq ?? lastSeq;
          events.push(event);
          onEvent(event);
          if (finalEvent([event]) !== null) {
            endedAt = performance.now();
            break stream;
          }
        }
      }
    } catch {
      // A dropped stream, or the deadline: the loop resumes after the last event, or ends.
    } finally {
      clearTimeout(timer);
      // Leaving the loop early cancels the body; aborting closes the connection too.
      controller.abort();
    }
    if (endedAt !== null) return { events, endedAt };
  }
  return { events, endedAt: null };
}

/** The text of one artifact file, checked against the manifest's sha256. */
async function artifact(base: string, id: string, path: string, sha256: string): Promise<SandboxFile> {
  const url = `${base}/api/pipelines/${encodeURIComponent(id)}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`;
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== sha256) throw new Error(`${path}: its sha256 is not the manifest's`);
  return { path, content: new TextDecoder().decode(bytes) };
}

export async function runPipeline(
  base: string,
  task: EvalTask,
  options: { maxRepairs: number; timeoutS: number; onEvent: (event: ClientEvent) => void },
): Promise<PipelineRun> {
  const started = performance.now();
  const deadline = Date.now() + options.timeoutS * 1000;
  const run: PipelineRun = {
    pipeline_id: null,
    events: [],
    wall_ms: Number.NaN,
    view: null,
    requirements: null,
    final_files: [],
    error: null,
  };
  try {
    const body = {
      prompt: task.prompt,
      metadata: { ...task.metadata, verify: true, max_repairs: options.maxRepairs },
      async: true,
    };
    const id = await start(base, body, deadline);
    run.pipeline_id = id;
    const followed = await follow(base, id, deadline, options.onEvent);
    run.events = followed.events;
    run.wall_ms = (followed.endedAt ?? performance.now()) - started;
    if (followed.endedAt === null && Date.now() >= deadline) {
      run.error = `no result within ${options.timeoutS} s: cancelled`;
      await fetch(`${base}/api/pipelines/${encodeURIComponent(id)}/cancel`, { method: "POST" }).catch(() => undefined);
    } else if (followed.endedAt === null) {
      run.error = "the event stream ended without the pipeline's result or error event";
    }
    const viewAnswer = await fetch(`${base}/api/pipelines/${encodeURIComponent(id)}`);
    const view = PipelineView.safeParse(await json(viewAnswer));
    if (view.success) {
      run.view = view.data;
      run.requirements = view.data.requirements;
    }
    const final = finalEvent(run.events);
    if (final?.type === "result" && final.artifacts !== null) {
      run.final_files = await Promise.all(
        final.artifacts.files.map((file) => artifact(base, id, file.path, file.sha256)),
      );
    }
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    if (!Number.isFinite(run.wall_ms)) run.wall_ms = performance.now() - started;
  }
  return run;
}
