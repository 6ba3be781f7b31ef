import { Hono } from "hono";
import { AGENT_ID_HEADER } from "../../../../shared/src/index.ts";
import { bearerToken, secretsEqual } from "../auth.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";

export const agentLinkRoutes = new Hono<AppEnv>();

const AGENT_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * `GET /agent/connect`: a host-agent's link (DESIGN §6). No token at the edge, or the wrong one,
 * and there is no socket. The upgrade goes to the AgentLinkDO named by the agent's id.
 */
agentLinkRoutes.get("/agent/connect", async (c) => {
  const expected = c.get("config").ATOMIC_AGENT_TOKEN;
  if (!expected) {
    throw new ApiError("unauthorized", "the edge has no ATOMIC_AGENT_TOKEN set, so no host-agent may link");
  }
  const token = bearerToken(c.req.header("Authorization"));
  if (token === null || !(await secretsEqual(token, expected))) {
    c.get("log").warn("agent link refused: bad or missing token");
    throw new ApiError("unauthorized", "missing or wrong agent token (Authorization: Bearer <ATOMIC_AGENT_TOKEN>)");
  }
  if ((c.req.header("Upgrade") ?? "").toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "this route speaks WebSocket: send Upgrade: websocket", {
      headers: { Upgrade: "websocket" },
    });
  }
  const agentId = c.req.header(AGENT_ID_HEADER) ?? "";
  if (!AGENT_ID.test(agentId)) {
    throw new ApiError("invalid_request", `${AGENT_ID_HEADER} must be 1-64 of [A-Za-z0-9_.-]`);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.set("X-Request-Id", c.get("requestId"));
  return c.env.AGENT_LINK.getByName(agentId).fetch(new Request("https://agent/connect", { headers }));
});
