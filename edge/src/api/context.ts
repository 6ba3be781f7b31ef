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

/** Pipeline ids are UUIDs; anything else cannot name a pipeline and gets a 404 without a lookup. */
export const PIPELINE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
