import { Hono } from "hono";
import { ExecuteRequest, PoolName } from "../../../../shared/src/index.ts";
import { executionShard } from "../../execution/shards.ts";
import type { AppEnv } from "../context.ts";
import type { ExecuteResponse } from "../openapi-schemas.ts";
import { ApiError, describeZodError, readJson } from "../errors.ts";

export const executeRoutes = new Hono<AppEnv>();

/**
 * `POST /api/execute`: runs code in a locked-down container on a host-agent with Docker:
 * `{language, code | files, entrypoint?, stdin?, args?, limits?}` → the sandbox's result.
 */
executeRoutes.post("/api/execute", async (c) => {
  const parsed = ExecuteRequest.safeParse(await readJson(c));
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const pool = PoolName.safeParse(c.req.query("pool") ?? "default");
  if (!pool.success) throw new ApiError("invalid_request", `pool: ${pool.error.issues[0]?.message ?? "invalid"}`);
  const id = crypto.randomUUID();
  const colo = c.req.raw.cf?.colo;
  const execution = c.env.EXECUTION.getByName(executionShard(typeof colo === "string" ? colo : undefined));
  // A client that goes away cancels its run, so its container and its slot are freed now rather
  // than at its timeout. The Worker hears of it through the request's signal (the
  // `enable_request_signal` flag); the object's `run` goes on when its caller is cancelled, so
  // it is told, in a `waitUntil` that outlives the cancelled request.
  const signal = c.req.raw.signal;
  const cancel = () =>
    c.executionCtx.waitUntil(
      execution.cancel(id).catch((error: unknown) => c.get("log").warn("could not cancel a run", { id, error })),
    );
  signal.addEventListener("abort", cancel, { once: true });
  try {
    const outcome = await execution.run(id, parsed.data, pool.data);
    if (!outcome.ok) throw new ApiError(outcome.error.code, outcome.error.message, { extra: { execution_id: id } });
    const body: ExecuteResponse = {
      success: true,
      request_id: c.get("requestId"),
      execution_id: id,
      ...outcome.result,
    };
    return c.json(body);
  } finally {
    signal.removeEventListener("abort", cancel);
  }
});
