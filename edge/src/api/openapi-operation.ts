import {
  errorResponses,
  SECURITY,
  withCommonHeaders,
  type Access,
  type ErrorGroup,
  type ResponseObject,
} from "./openapi-responses.ts";
import { ref, type JsonSchema } from "./openapi-schemas.ts";
import type { WebSocketMessages } from "./openapi-streams.ts";

/** What the document says of one operation; `operation` adds what every operation of its kind answers. */
export interface OperationSpec {
  operationId: string;
  tag: "pipelines" | "artifacts" | "execution" | "streams" | "observability" | "agents" | "document";
  summary: string;
  description?: string;
  access: Access;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, ResponseObject>;
  /** Codes of this operation's own errors; those of every operation (405, 500) and of keyed ones (401, 429) are added. */
  errors?: ErrorGroup[];
  /** It reads a body, so the body limit applies (413). */
  body?: boolean;
  /** `Retry-After` comes with every 429 (false where a Durable Object's own 429 lacks it). */
  retryAfter?: boolean;
  websocket?: WebSocketMessages;
}

/** The Operation Object of `spec`, with the errors, headers and security its kind implies. */
export function operation(spec: OperationSpec): Record<string, unknown> {
  const keyed = spec.access !== "none" && spec.access !== "agent";
  const groups: ErrorGroup[] = [
    ...(spec.errors ?? []),
    [["method_not_allowed", "internal"], ["ErrorResponse"]],
    ...(keyed ? [[["unauthorized", "rate_limited"], ["ErrorResponse"]] satisfies ErrorGroup] : []),
    ...(spec.body ? [[["payload_too_large"], ["ErrorResponse"]] satisfies ErrorGroup] : []),
  ];
  if (spec.access === "agent") groups.push([["unauthorized"], ["ErrorResponse"]]);
  const responses = { ...spec.responses, ...errorResponses(groups, { retryAfter: spec.retryAfter ?? true }) };
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: SECURITY[spec.access],
    ...(spec.parameters ? { parameters: spec.parameters } : {}),
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses: Object.fromEntries(
      Object.entries(responses)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, response]) => [status, withCommonHeaders(response, keyed)]),
    ),
    ...(spec.websocket ? { "x-websocket": spec.websocket } : {}),
  };
}

export const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });
export const jsonBody = (schema: JsonSchema) => ({ required: true, content: { "application/json": { schema } } });

export const NO_STORE = { "Cache-Control": { description: "Not to be cached.", schema: { type: "string" } } };
// Sent with an event stream: not cached, and not buffered by proxies on the way.
export const STREAM_HEADERS = {
  ...NO_STORE,
  "X-Accel-Buffering": { description: "Asks proxies not to buffer the stream.", schema: { type: "string" } },
};

export const switching = (description: string): ResponseObject => ({
  description,
  headers: { Upgrade: { required: true, schema: { type: "string", enum: ["websocket"] } } },
});

/** The parameters more than one operation takes, as `components.parameters`. */
export function parameters(): Record<string, unknown> {
  return {
    PipelineId: {
      name: "id",
      in: "path",
      required: true,
      description: "The pipeline's id; anything but a UUID is answered 404.",
      schema: { type: "string", format: "uuid" },
    },
    After: {
      name: "after",
      in: "query",
      description: "The last event `seq` the client has (0 for none).",
      schema: { type: "integer", minimum: 0 },
    },
    LastEventId: {
      name: "Last-Event-ID",
      in: "header",
      description: "The `id` of the last SSE event the client has, as `EventSource` sends it on reconnecting.",
      schema: { type: "string", pattern: "^[0-9]+$" },
    },
    Mode: {
      name: "mode",
      in: "query",
      description: "`delta` leaves the running `content` out of chunks (as `metadata.stream_mode` does).",
      schema: { type: "string", enum: ["content", "delta"] },
    },
    Pool: {
      name: "pool",
      in: "query",
      description: "The pool (scheduler) to ask; `default` when absent.",
      schema: ref("PoolName"),
    },
    Prefer: {
      name: "Prefer",
      in: "header",
      description: '`respond-async`: answer 202 at once, as `"async": true` does.',
      schema: { type: "string" },
      example: "respond-async",
    },
    IdempotencyKey: {
      name: "Idempotency-Key",
      in: "header",
      description:
        "Makes a retry safe: the same key with the same body (within ATOMIC_IDEMPOTENCY_TTL_S, per API key) answers with the first request's pipeline or run and `Idempotent-Replayed: true`; with another body, 422. 1-255 visible ASCII characters.",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[!-~]+$" },
    },
    Upgrade: {
      name: "Upgrade",
      in: "header",
      required: true,
      description: "A WebSocket handshake; without it the route answers as its 426 or 400 says.",
      schema: { type: "string", enum: ["websocket"] },
    },
  };
}
