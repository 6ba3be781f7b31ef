import { Hono } from "hono";
import { ExecuteRequest } from "../../../../shared/src/index.ts";
import { executionShard } from "../../execution/shards.ts";
import type { AppEnv } from "../context.ts";
import { ApiError, describeZodError, readJson } from "../errors.ts";

export const executeRoutes = new Hono<AppEnv>();

/**
 * `POST /api/execute`: runs code in a locked-down container on a host-agent with Docker:
 * `{language, code | files, entrypoint?, stdin?, args?, limits?}` → the sandbox's result.
 */
executeRoutes.post("/api/execute", async (c) => {
  const parsed = ExecuteRequest.safeParse(await readJson(c));
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const id = crypto.randomUUID();
  const colo = c.req.raw.cf?.colo;
  const shard = executionShard(typeof colo === "string" ? colo : undefined);
  const outcome = await c.env.EXECUTION.getByName(shard).run(id, parsed.data, c.req.query("pool") ?? "default");
  if (!outcome.ok) throw new ApiError(outcome.error.code, outcome.error.message, { extra: { execution_id: id } });
  return c.json({ success: true, request_id: c.get("requestId"), execution_id: id, ...outcome.result });
});
