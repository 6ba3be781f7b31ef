import type { MiddlewareHandler } from "hono";
import { bearerToken, secretsEqual } from "./auth.ts";
import { apiKeyId, apiKeys } from "../access/api-keys.ts";
import { OPEN_CALLER } from "../access/caller.ts";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

let warnedOpen = false;

/**
 * Bearer-key auth for `/api/*` and `/ws/*` when ATOMIC_API_KEYS is set. Browsers cannot put
 * headers on a WebSocket, so `/ws/*` also takes `?access_token=`. Keys are compared in constant
 * time and never logged; each key has its own budget of ATOMIC_RATE_LIMIT_PER_MIN requests.
 * Host-agents may fetch artifacts with the agent token (exports download files that way).
 * `ATOMIC_OPERATOR_KEYS` authenticate too, as operators: they see every key's pipelines.
 * Sets `caller`: whose key it was (its id, cut) and whether an operator's.
 */
export function clientAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.get("config");
    const keys = apiKeys(config.ATOMIC_API_KEYS);
    const operatorKeys = apiKeys(config.ATOMIC_OPERATOR_KEYS);
    c.set("caller", OPEN_CALLER);
    if (keys.length === 0 && operatorKeys.length === 0) {
      if (!warnedOpen) {
        warnedOpen = true;
        c.get("log").warn("ATOMIC_API_KEYS is not set: the API is open to anyone who can reach this edge");
      }
      return next();
    }
    if (c.req.method === "OPTIONS") return next();
    const fromQuery = c.req.path.startsWith("/ws/") ? (c.req.query("access_token") ?? null) : null;
    const given = bearerToken(c.req.header("Authorization")) ?? fromQuery;
    if (given === null)
      throw new ApiError("unauthorized", "this edge needs an API key: send Authorization: Bearer <key>");
    let matched: string | null = null;
    let operator = false;
    // Every key is compared, whichever matches: the time taken does not tell which one did.
    for (const key of keys) {
      if (await secretsEqual(given, key)) matched = key;
    }
    for (const key of operatorKeys) {
      if (await secretsEqual(given, key)) {
        matched = key;
        operator = true;
      }
    }
    if (matched === null) {
      const agentToken = config.ATOMIC_AGENT_TOKEN;
      const artifactRead = c.req.method === "GET" && /^\/api\/pipelines\/[^/]+\/artifacts/.test(c.req.path);
      if (artifactRead && agentToken && (await secretsEqual(given, agentToken))) {
        // An export downloads the files of whichever pipeline it exports.
        c.set("caller", { owner: null, operator: true });
        return next();
      }
      c.get("log").warn("request refused: unknown API key");
      throw new ApiError("unauthorized", "unknown API key");
    }
    const id = await apiKeyId(matched);
    c.set("caller", { owner: id.slice(0, 32), operator });
    const limit = config.ATOMIC_RATE_LIMIT_PER_MIN;
    if (limit > 0) {
      const verdict = await c.env.RATE_LIMITER.getByName(id).take(limit);
      c.header("X-RateLimit-Limit", String(limit));
      c.header("X-RateLimit-Remaining", String(verdict.remaining));
      if (!verdict.allowed) {
        throw new ApiError(
          "rate_limited",
          `more than ${limit} requests a minute with this key (ATOMIC_RATE_LIMIT_PER_MIN)`,
          {
            headers: { "Retry-After": String(verdict.retry_after_s) },
          },
        );
      }
    }
    return next();
  };
}
