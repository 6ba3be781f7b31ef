import { Hono } from "hono";
import { PoolName } from "../../../../shared/src/index.ts";
import { CALLER_HEADER } from "../../scheduler/scheduler-do.ts";
import { POOL_WATCHERS_MAX } from "../../scheduler/pool-feed.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { requireUpgrade } from "../upgrade.ts";

export const poolFeedRoutes = new Hono<AppEnv>();

/**
 * `GET /ws/pool?pool=NAME`: the pool's live feed, what the dashboard draws from. Any key may watch
 * the pool's overview; the notices of pipelines name only those the key may see (an operator's: all).
 */
poolFeedRoutes.get("/ws/pool", async (c) => {
  requireUpgrade(c.req.raw);
  const pool = PoolName.safeParse(c.req.query("pool") ?? "default");
  if (!pool.success) throw new ApiError("invalid_request", `pool: ${pool.error.issues[0]?.message ?? "invalid"}`);
  const headers = new Headers({ Upgrade: "websocket", "X-Request-Id": c.get("requestId") });
  headers.set(CALLER_HEADER, JSON.stringify(c.get("caller")));
  const answer = await c.env.SCHEDULER.getByName(pool.data).fetch(new Request("https://scheduler/feed", { headers }));
  if (answer.status === 429) {
    throw new ApiError("rate_limited", `this pool already serves ${POOL_WATCHERS_MAX} live feeds, the most it will`, {
      headers: { "Retry-After": "30" },
    });
  }
  return answer;
});
