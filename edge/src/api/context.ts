import type { EdgeConfig } from "../config.ts";
import type { EdgeLogger } from "../log.ts";

/** Hono's environment for every route: the Worker's bindings and what middleware puts on `c.var`. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: EdgeConfig;
    log: EdgeLogger;
  };
}

/** When this isolate started: `uptime_ms` counts from here. */
export const STARTED_AT = Date.now();

export const VERSION = "0.1.0";

/** Pipeline ids are UUIDs; anything else cannot name a pipeline and gets a 404 without a lookup. */
export const PIPELINE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
