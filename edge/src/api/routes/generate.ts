import { Hono, type Context } from "hono";
import type { GenerateAccepted, GenerateResponse, PipelineState } from "../../../../shared/src/index.ts";
import { FINAL_STATES, GenerateRequest } from "../../../../shared/src/index.ts";
import type { Caller } from "../../access/caller.ts";
import { claimIdempotencyKey } from "../../idempotency/idempotent-request.ts";
import { pipelineLinks } from "../../pipeline/links.ts";
import type { PipelineDO } from "../../pipeline/pipeline-do.ts";
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
  const raw = await readJson(c);
  const parsed = GenerateRequest.safeParse(raw);
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const request = parsed.data;
  const requestId = c.get("requestId");
  const keyed = await claimIdempotencyKey(c, "POST /api/generate", raw, crypto.randomUUID());
  const id = keyed.kind === "unkeyed" ? crypto.randomUUID() : keyed.key.id;
  const stub = c.env.PIPELINE.getByName(id);
  let state: PipelineState;
  if (keyed.kind === "retry") {
    // The same request again: it answers with the first one's pipeline, as that one would.
    state = await firstPipelineState(stub, c.get("caller"));
  } else {
    const created = await stub.create({
      id,
      request_id: requestId,
      request,
      owner: c.get("caller").owner,
      origin: new URL(c.req.url).origin,
    });
    if (!created.ok) {
      // Refused before the pipeline existed: a retry with the key may try again.
      if (keyed.kind === "first") await keyed.key.release();
      const headers: Record<string, string> = created.retry_after_s
        ? { "Retry-After": String(created.retry_after_s) }
        : {};
      throw new ApiError(created.error.code, created.error.message, { headers });
    }
    state = created.view.state;
  }
  c.get("log").info("pipeline created", { pipeline_id: id, priority: request.priority ?? "normal" });

  if ((c.req.header("Accept") ?? "").includes("text/event-stream")) {
    const response = await stub.fetch(`https://pipeline/sse?after=0`);
    return new Response(response.body, { status: 200, headers: response.headers });
  }

  const prefersAsync = /\brespond-async\b/i.test(c.req.header("Prefer") ?? "");
  if (request.async === true || prefersAsync) return accepted(c, id, state);

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

/** How long a retry waits for the first request with its key to have created the pipeline. */
const FIRST_CREATE_WAIT_MS = 5_000;

/**
 * The state of the pipeline a retry's key names. The first request creates it a moment after it
 * claims the key, so a retry that comes at once waits for it; one that never appears is a 409.
 */
async function firstPipelineState(stub: DurableObjectStub<PipelineDO>, caller: Caller): Promise<PipelineState> {
  const deadline = Date.now() + FIRST_CREATE_WAIT_MS;
  for (;;) {
    const view = await stub.view(caller);
    if (view) return view.state;
    if (Date.now() > deadline) {
      throw new ApiError(
        "conflict",
        "the first request with this Idempotency-Key has not created its pipeline yet; retry in a moment",
        { headers: { "Retry-After": "1" } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function accepted(c: Context<AppEnv>, id: string, state: GenerateAccepted["state"]): Response {
  const links = pipelineLinks(id);
  const body: GenerateAccepted = { success: true, request_id: c.get("requestId"), pipeline_id: id, state, links };
  c.header("Location", links.self);
  return c.json(body, 202);
}
