import type { EdgeConfig } from "../config.ts";
import type { EdgeLogger } from "../log.ts";
import type { Caller } from "../access/caller.ts";

/** Hono's environment for every route: the Worker's bindings and what middleware puts on `c.var`. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: EdgeConfig;
    log: EdgeLogger;
    /** Set by the client auth on `/api/*` and `/ws/*`. */
    caller: Caller;
  };
}

// Workers freeze the clock at 0 outside a request, so the start is taken on the first request.
let startedAt = 0;

/** Milliseconds since this isolate served its first request. */
export function uptimeMs(): number {
  const now = Date.now();
  if (startedAt === 0) startedAt = now;
  return now - startedAt;
}

/** Pipeline ids are UUIDs; anything else cannot name a pipeline and gets a 404 without a lookup. */
export const PIPELINE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
