import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { ConfigError, readConfig } from "../config.ts";
import { createEdgeLogger } from "../log.ts";
import type { AppEnv } from "./context.ts";
import { uptimeMs } from "../metrics/uptime.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { clientAuth } from "./client-auth.ts";
import { openApiDocument } from "./openapi.ts";
import { agentLinkRoutes } from "./routes/agent-link.ts";
import { executeRoutes } from "./routes/execute.ts";
import { generateRoutes } from "./routes/generate.ts";
import { observabilityRoutes } from "./routes/observability.ts";
import { pipelineListRoutes } from "./routes/pipeline-list.ts";
import { pipelineRoutes } from "./routes/pipelines.ts";
import { poolFeedRoutes } from "./routes/pool-feed.ts";
import { streamRoutes } from "./routes/streams.ts";
import { DASHBOARD_PATHS, dashboardRoutes } from "../dashboard/dashboard-routes.ts";

/** Which methods each route answers, so a wrong method gets 405 with `Allow` instead of 404. */
const ROUTE_METHODS: Array<[RegExp, string]> = [
  [/^\/api\/(generate|execute)$/, "POST"],
  [/^\/api\/pipelines\/[^/]+\/cancel$/, "POST"],
  [/^\/api\/pipelines(\/[^/]+(\/events|\/artifacts(\.tar|\/.+)?)?)?$/, "GET"],
  [/^\/(health|metrics|api\/metrics|api\/status|api\/openapi\.json|ws\/stream|ws\/pool|agent\/connect)$/, "GET"],
  [/^\/ws\/pipelines\/[^/]+$/, "GET"],
  [DASHBOARD_PATHS, "GET"],
];

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", requestId({ headerName: "X-Request-Id" }));
  app.use("*", async (c, next) => {
    uptimeMs();
    const config = readConfig(c.env);
    c.set("config", config);
    c.set("log", createEdgeLogger(config.ATOMIC_LOG_LEVEL, { request_id: c.get("requestId") }));
    const started = Date.now();
    await next();
    c.get("log").debug("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
    });
  });
  app.use("*", async (c, next) => {
    const origins = c
      .get("config")
      .ATOMIC_CORS_ORIGINS.split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    return cors({
      origin: origins.includes("*") ? "*" : origins,
      allowHeaders: ["Content-Type", "Authorization", "Prefer", "Last-Event-ID", "X-Request-Id", "Idempotency-Key"],
      allowMethods: ["GET", "POST", "OPTIONS"],
      exposeHeaders: ["X-Request-Id", "Retry-After", "Location", "Idempotent-Replayed"],
      maxAge: 600,
    })(c, next);
  });
  app.use("/api/*", clientAuth());
  app.use("/ws/*", clientAuth());
  app.use("/api/*", async (c, next) => {
    const maxSize = c.get("config").ATOMIC_MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError("payload_too_large", `the body is larger than ${maxSize} bytes (ATOMIC_MAX_BODY_BYTES)`);
      },
    })(c, next);
  });

  app.route("/", generateRoutes);
  app.route("/", executeRoutes);
  app.route("/", pipelineListRoutes);
  app.route("/", pipelineRoutes);
  app.route("/", streamRoutes);
  app.route("/", poolFeedRoutes);
  app.route("/", agentLinkRoutes);
  app.route("/", observabilityRoutes);
  app.route("/", dashboardRoutes);
  app.get("/api/openapi.json", (c) => c.json(openApiDocument()));

  app.notFound((c) => {
    const allowed = ROUTE_METHODS.find(([pattern]) => pattern.test(c.req.path));
    if (allowed) {
      return errorResponse(
        c,
        new ApiError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${allowed[1]}`, {
          headers: { Allow: allowed[1] },
        }),
      );
    }
    return errorResponse(c, new ApiError("not_found", `no route ${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof HTTPException && error.status === 413) {
      return errorResponse(c, new ApiError("payload_too_large", "the body is too large"));
    }
    const log = c.get("log") ?? createEdgeLogger("info", { request_id: c.get("requestId") });
    if (error instanceof ConfigError) {
      log.error(error.message);
      return errorResponse(c, new ApiError("internal", error.message));
    }
    log.error("unhandled error", { error, path: c.req.path });
    return errorResponse(c, new ApiError("internal", "internal error; the request id names it in the logs"));
  });

  return app;
}
