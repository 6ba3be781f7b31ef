import { Hono, type Context } from "hono";
import { ExecuteRequest, PoolName, type ErrorCode } from "../../../../shared/src/index.ts";
import { RESULT_GRACE_MS, runDeadlineMs } from "../../execution/run-deadline.ts";
import type { StoredAnswer } from "../../idempotency/idempotency-do.ts";
import { claimIdempotencyKey, REPLAYED_HEADER, type KeyHandle } from "../../idempotency/idempotent-request.ts";
import { executionShard } from "../../execution/shards.ts";
import type { AppEnv } from "../context.ts";
import type { ExecuteResponse } from "../openapi-schemas.ts";
import { ApiError, describeZodError, errorBody, readJson } from "../errors.ts";

export const executeRoutes = new Hono<AppEnv>();

/**
 * `POST /api/execute`: runs code in a locked-down container on a host-agent with Docker:
 * `{language, code | files, entrypoint?, stdin?, args?, limits?}` → the sandbox's result.
 */
executeRoutes.post("/api/execute", async (c) => {
  const body = await readJson(c);
  const parsed = ExecuteRequest.safeParse(body);
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const pool = PoolName.safeParse(c.req.query("pool") ?? "default");
  if (!pool.success) throw new ApiError("invalid_request", `pool: ${pool.error.issues[0]?.message ?? "invalid"}`);
  const keyed = await claimIdempotencyKey(
    c,
    "POST /api/execute",
    body,
    crypto.randomUUID(),
    longestRunMs(parsed.data, c.get("config")),
  );
  if (keyed.kind === "retry") return replay(c, keyed.key, keyed.answer, parsed.data);
  const id = keyed.kind === "unkeyed" ? crypto.randomUUID() : keyed.key.id;
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
    if (!outcome.ok) {
      const error = new ApiError(outcome.error.code, outcome.error.message, { extra: { execution_id: id } });
      if (keyed.kind === "first") {
        // A run that happened (it failed on its host or ran out of time) is answered the same to
        // every retry; a refusal before any run frees the key for the retry to try again.
        if (RAN.has(outcome.error.code)) {
          await keyed.key.answer({ status: error.status, body: JSON.stringify(errorBody(c, error)) });
        } else await keyed.key.release();
      }
      throw error;
    }
    const answer: ExecuteResponse = {
      success: true,
      request_id: c.get("requestId"),
      execution_id: id,
      ...outcome.result,
    };
    if (keyed.kind === "first") await keyed.key.answer({ status: 200, body: JSON.stringify(answer) });
    return c.json(answer);
  } finally {
    signal.removeEventListener("abort", cancel);
  }
});

/** Error codes of runs that happened: their answer is kept for retries with the same key. */
const RAN: ReadonlySet<ErrorCode> = new Set(["sandbox_error", "timeout"]);

/**
 * A retry of a run: the first one's answer, waiting for it while the first still runs (up to the
 * run's own deadline and the edge's slack); a first request that is still running after that, or
 * that was refused without running, leaves the retry a 409 to come back from.
 */
/** The longest a run can take from its request to its answer: the wait for an agent, the run, the result's way back. */
function longestRunMs(request: ExecuteRequest, config: AppEnv["Variables"]["config"]): number {
  return config.ATOMIC_AGENT_WAIT_MS + runDeadlineMs(request, config.ATOMIC_EXECUTE_SLACK_MS) + RESULT_GRACE_MS;
}

async function replay(
  c: Context<AppEnv>,
  key: KeyHandle,
  answer: StoredAnswer | null,
  request: ExecuteRequest,
): Promise<Response> {
  const found = answer ?? (await key.awaitAnswer(longestRunMs(request, c.get("config"))));
  if (found === null) {
    throw new ApiError("conflict", "the first request with this Idempotency-Key has not finished its run; retry it", {
      headers: { "Retry-After": "1" },
    });
  }
  return new Response(found.body, {
    status: found.status,
    headers: { "Content-Type": "application/json", [REPLAYED_HEADER]: "true" },
  });
}
