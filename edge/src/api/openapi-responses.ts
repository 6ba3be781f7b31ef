import { ERROR_STATUS, type ErrorCode } from "../../../shared/src/index.ts";
import { ref, type JsonSchema, type SchemaName } from "./openapi-schemas.ts";

/** What each error code means to a caller, for the descriptions of the error responses. */
const MEANING: Record<ErrorCode, string> = {
  invalid_json: "the body is empty or not JSON",
  invalid_request: "a field, parameter or header is invalid; the message names each one",
  unauthorized: "no key, or an unknown one",
  forbidden: "the key may not do this",
  not_found: "no such pipeline, file or route",
  method_not_allowed: "the path does not answer this method; `Allow` names the ones it does",
  payload_too_large: "the body is larger than ATOMIC_MAX_BODY_BYTES",
  unsupported_media_type: "the body has a `Content-Encoding` other than identity",
  upgrade_required: "a WebSocket route was asked without `Upgrade: websocket`",
  queue_full: "the pool's queue holds ATOMIC_MAX_QUEUE_SIZE pipelines; retry after `Retry-After` seconds",
  rate_limited:
    "over ATOMIC_RATE_LIMIT_PER_MIN requests a minute with this key, or over ATOMIC_MAX_SUBSCRIBERS on one pipeline",
  conflict:
    "the pipeline already ended, or the first request with this Idempotency-Key has not got as far as its retry needs yet (retry after `Retry-After`)",
  idempotency_key_reused: "this Idempotency-Key was first used with a different request",
  no_agent: "no host-agent took the work within ATOMIC_AGENT_WAIT_MS",
  agent_lost: "the host-agent running it went away, as often as ATOMIC_MAX_ATTEMPTS allows",
  agent_error: "the host-agent failed the job",
  llm_error: "the model failed",
  llm_unavailable: "no model is available on the host-agents",
  sandbox_error: "the sandbox failed to run the code",
  sandbox_unavailable: "no host-agent with a Docker sandbox took the run within ATOMIC_AGENT_WAIT_MS",
  export_error: "exporting the files failed",
  timeout: "a stage did not finish within ATOMIC_STAGE_TIMEOUT_MS",
  cancelled: "the pipeline or run was cancelled",
  internal: "a fault of the edge; the request id names it in the logs",
};

/** Response headers the document refers to by `$ref`. */
export const HEADERS = {
  RequestId: {
    description: "The request's id, as in the body's `request_id` and the edge's logs.",
    required: true,
    schema: { type: "string", minLength: 1 },
  },
  RateLimitLimit: {
    description: "Requests a minute this key may make (ATOMIC_RATE_LIMIT_PER_MIN); sent when keys and a limit are set.",
    schema: { type: "integer", minimum: 1 },
  },
  IdempotentReplayed: {
    description: "`true` when this is the answer of an earlier request with the same `Idempotency-Key`.",
    schema: { type: "string", enum: ["true"] },
  },
  RateLimitRemaining: {
    description: "Requests this key has left in the current minute.",
    schema: { type: "integer", minimum: 0 },
  },
};

const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** How an operation is authorised; each names the security requirements the document gives it. */
export type Access = "apiKey" | "artifact" | "socket" | "agent" | "none";

export const SECURITY_SCHEMES = {
  apiKey: {
    type: "http",
    scheme: "bearer",
    description:
      "A key of ATOMIC_API_KEYS. Needed on /api/* and /ws/* when the edge has keys; an edge without keys serves them to anyone (`GET /health` says which: `auth`).",
  },
  accessToken: {
    type: "apiKey",
    in: "query",
    name: "access_token",
    description: "The same key, for WebSocket clients that cannot set headers (browsers).",
  },
  agentToken: {
    type: "http",
    scheme: "bearer",
    description: "ATOMIC_AGENT_TOKEN: host-agents link with it and may read artifacts with it.",
  },
};

export const SECURITY: Record<Access, Array<Record<string, string[]>>> = {
  apiKey: [{ apiKey: [] }],
  artifact: [{ apiKey: [] }, { agentToken: [] }],
  socket: [{ apiKey: [] }, { accessToken: [] }],
  agent: [{ agentToken: [] }],
  none: [],
};

/** A group of error codes an operation answers with one of `bodies`. */
export type ErrorGroup = [codes: ErrorCode[], bodies: SchemaName[]];

export interface ResponseObject {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}

/** Adds the headers every response of an operation carries: the request id, and the rate limit on keyed routes. */
export function withCommonHeaders(response: ResponseObject, keyed: boolean): ResponseObject {
  return {
    ...response,
    headers: {
      "X-Request-Id": header("RequestId"),
      ...(keyed
        ? { "X-RateLimit-Limit": header("RateLimitLimit"), "X-RateLimit-Remaining": header("RateLimitRemaining") }
        : {}),
      ...response.headers,
    },
  };
}

/** `{..., content: {"application/json": {schema}}}`. */
export function json(description: string, schema: JsonSchema, headers?: Record<string, unknown>): ResponseObject {
  return { description, ...(headers ? { headers } : {}), content: { "application/json": { schema } } };
}

/**
 * The error responses of an operation, one per status: the body schema (or schemas) with
 * `error.code` narrowed to the codes that status can carry there, and the headers that go with it.
 */
export function errorResponses(
  groups: ErrorGroup[],
  options: { retryAfter?: boolean } = {},
): Record<string, ResponseObject> {
  const byStatus = new Map<number, { codes: Set<ErrorCode>; bodies: Set<SchemaName> }>();
  for (const [codes, bodies] of groups) {
    for (const code of codes) {
      const status = ERROR_STATUS[code];
      const entry = byStatus.get(status) ?? { codes: new Set(), bodies: new Set() };
      entry.codes.add(code);
      for (const body of bodies) entry.bodies.add(body);
      byStatus.set(status, entry);
    }
  }
  const out: Record<string, ResponseObject> = {};
  for (const [status, { codes, bodies }] of [...byStatus].sort(([a], [b]) => a - b)) {
    const names = [...bodies];
    const body = names.length === 1 && names[0] ? ref(names[0]) : { oneOf: names.map(ref) };
    const schema = {
      allOf: [
        body,
        { type: "object", properties: { error: { type: "object", properties: { code: { enum: [...codes] } } } } },
      ],
    };
    const headers: Record<string, unknown> = {};
    if (status === 429) {
      headers["Retry-After"] = {
        description: "Seconds to wait before trying again.",
        required: options.retryAfter !== false,
        schema: { type: "integer", minimum: 0 },
      };
    }
    if (status === 405) {
      headers["Allow"] = { description: "The methods this path answers.", required: true, schema: { type: "string" } };
    }
    if (status === 426) {
      // The edge sends it, as HTTP asks; but it is a connection header, which workerd drops from
      // any answer but a 101, so a client cannot count on it and reads the code instead.
      headers["Upgrade"] = {
        description: "The protocol to ask for, where the runtime passes it on.",
        schema: { type: "string", enum: ["websocket"] },
      };
    }
    const description = [...codes].map((code) => `\`${code}\`: ${MEANING[code]}`).join("; ");
    out[String(status)] = json(description, schema, Object.keys(headers).length > 0 ? headers : undefined);
  }
  return out;
}
