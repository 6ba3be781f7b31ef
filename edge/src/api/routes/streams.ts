import { Hono } from "hono";
import { parseAfter } from "../after-param.ts";
import { PIPELINE_ID, type AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { requireUpgrade } from "../upgrade.ts";

export const streamRoutes = new Hono<AppEnv>();

function forward(request: Request, url: string, requestId: string): Request {
  const headers = new Headers(request.headers);
  headers.set("X-Request-Id", requestId);
  return new Request(url, { headers, method: "GET" });
}

/**
 * `GET /ws/stream`: the seed's protocol. The socket belongs to a new pipeline whose Durable
 * Object starts it on the first client message.
 */
streamRoutes.get("/ws/stream", async (c) => {
  requireUpgrade(c.req.raw);
  const id = crypto.randomUUID();
  const mode = c.req.query("mode") === "delta" ? "&mode=delta" : "";
  // The pipeline the socket's first message creates belongs to the key that opened it.
  const owner = c.get("caller").owner;
  const ownerParam = owner === null ? "" : `&owner=${owner}`;
  return c.env.PIPELINE.getByName(id).fetch(
    forward(c.req.raw, `https://pipeline/ws?role=start${mode}${ownerParam}`, c.get("requestId")),
  );
});

/** `GET /ws/pipelines/:id?after=SEQ`: follow any pipeline, replaying the events after SEQ. */
streamRoutes.get("/ws/pipelines/:id", async (c) => {
  requireUpgrade(c.req.raw);
  const id = c.req.param("id");
  if (!PIPELINE_ID.test(id)) throw new ApiError("not_found", `no pipeline ${id}`);
  const after = parseAfter(c.req.query("after"));
  const mode = c.req.query("mode") === "delta" ? "&mode=delta" : "";
  const stub = c.env.PIPELINE.getByName(id);
  if (!(await stub.allows(c.get("caller")))) throw new ApiError("not_found", `no pipeline ${id}`);
  return stub.fetch(forward(c.req.raw, `https://pipeline/ws?role=subscribe&after=${after}${mode}`, c.get("requestId")));
});
