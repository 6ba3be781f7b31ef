import { Hono, type Context } from "hono";
import type { GenerateAccepted, GenerateResponse } from "../../../../shared/src/index.ts";
import { FINAL_STATES, GenerateRequest } from "../../../../shared/src/index.ts";
import { pipelineLinks } from "../../pipeline/links.ts";
import type { AppEnv } from "../context.ts";
import { ApiError, describeZodError, readJson } from "../errors.ts";

/** How long a synchronous `POST /api/generate` waits before it answers 202 with links instead. */
const SYNC_WAIT_MS = 15 * 60_000;

export const generateRoutes = new Hono<AppEnv>();

/**
 * `POST /api/generate`: the seed's request and response. Waits for the pipeline by default;
 * `Prefer: respond-async` or `"async": true` answers 202 at once; `Accept: text/event-stream`
 * streams the pipeline's events as SSE.
 */
generateRoutes.post("/api/generate", async (c) => {
  const parsed = GenerateRequest.safeParse(await readJson(c));
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const request = parsed.data;
  const requestId = c.get("requestId");
  const id = crypto.randomUUID();
  const stub = c.env.PIPELINE.getByName(id);
  const created = await stub.create({ id, request_id: requestId, request, owner: c.get("caller").owner });
  if (!created.ok) {
    const headers: Record<string, string> = created.retry_after_s
      ? { "Retry-After": String(created.retry_after_s) }
      : {};
    throw new ApiError(created.error.code, created.error.message, { headers });
  }
  c.get("log").info("pipeline created", { pipeline_id: id, priority: request.priority ?? "normal" });

  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) {
    const response = await stub.fetch(`https://pipeline/sse?after=0`);
    return new Response(response.body, { status: 200, headers: response.headers });
  }

  const prefersAsync = /\brespond-async\b/i.test(c.req.header("Prefer") ?? "");
  if (request.async === true || prefersAsync) return accepted(c, id, created.view.state);

  const done = await stub.waitForFinish(SYNC_WAIT_MS);
  if (!done) throw new ApiError("internal", "the pipeline vanished while it ran");
  const { view, content } = done;
  if (!FINAL_STATES.has(view.state)) return accepted(c, id, view.state);
  if (view.state !== "COMPLETED") {
    const error = view.error ?? { code: "internal" as const, message: `pipeline ended ${view.state}` };
    throw new ApiError(error.code, error.message, { extra: { pipeline_id: id, state: view.state } });
  }
  const body: GenerateResponse = {
    success: true,
    request_id: requestId,
    pipeline_id: id,
    state: view.state,
    content,
    artifacts: view.artifacts,
    processing_time_ms: view.processing_time_ms ?? 0,
    stages: view.stages,
    requirements: view.requirements,
    verified: view.verified,
    verification: view.verification,
    export: view.export,
  };
  return c.json(body);
});

function accepted(c: Context<AppEnv>, id: string, state: GenerateAccepted["state"]): Response {
  const links = pipelineLinks(id);
  const body: GenerateAccepted = { success: true, request_id: c.get("requestId"), pipeline_id: id, state, links };
  c.header("Location", links.self);
  return c.json(body, 202);
}
