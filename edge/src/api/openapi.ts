import { AGENT_ID_HEADER, VERSION } from "../../../shared/src/index.ts";
import { jsonBody, NO_STORE, operation, param, parameters, STREAM_HEADERS, switching } from "./openapi-operation.ts";
import { HEADERS, json, SECURITY_SCHEMES, type ErrorGroup } from "./openapi-responses.ts";
import { generateSchemas, ref, type GeneratedSchemas } from "./openapi-schemas.ts";
import { agentSocket, pipelineSocket, poolSocket, sseContent } from "./openapi-streams.ts";

const ERROR_BODY: ErrorGroup[0] = ["invalid_json", "invalid_request"];
// What a pipeline that ran and failed answers a caller who waited for it, by its error's code.
const PIPELINE_FAILURES: ErrorGroup = [
  [
    "invalid_request",
    "cancelled",
    "internal",
    "agent_error",
    "llm_error",
    "sandbox_error",
    "export_error",
    "no_agent",
    "agent_lost",
    "llm_unavailable",
    "sandbox_unavailable",
    "timeout",
  ],
  ["PipelineFailedResponse"],
];
const NO_PIPELINE: ErrorGroup = [["not_found"], ["ErrorResponse"]];
const BAD_POOL: ErrorGroup = [["invalid_request"], ["ErrorResponse"]];
const UPGRADE: ErrorGroup = [["upgrade_required"], ["ErrorResponse"]];

const replayed = { $ref: "#/components/headers/IdempotentReplayed" };

function paths(schemas: GeneratedSchemas): Record<string, Record<string, unknown>> {
  const sse = sseContent();
  const pipelineView = json("The pipeline.", ref("PipelineView"));
  return {
    "/api/generate": {
      post: operation({
        operationId: "generate",
        tag: "pipelines",
        summary: "Run a pipeline for a prompt",
        description:
          'Waits for the pipeline and answers its result (or its error, with `pipeline_id` and `state`). `Prefer: respond-async` or `"async": true` answers 202 at once; `Accept: text/event-stream` streams its events as SSE instead.',
        access: "apiKey",
        body: true,
        parameters: [param("Prefer"), param("IdempotencyKey")],
        requestBody: jsonBody(ref("GenerateRequest")),
        responses: {
          "200": {
            description:
              "The pipeline completed (JSON), or its events as they happen (SSE, with `Accept: text/event-stream`).",
            headers: { ...STREAM_HEADERS, "Idempotent-Replayed": replayed },
            content: { "application/json": { schema: ref("GenerateResponse") }, ...sse },
          },
          "202": json("Accepted: follow the links.", ref("GenerateAccepted"), {
            Location: { description: "The pipeline (`links.self`).", required: true, schema: { type: "string" } },
            "Idempotent-Replayed": replayed,
          }),
        },
        errors: [
          [ERROR_BODY, ["ErrorResponse"]],
          [["unsupported_media_type", "queue_full", "conflict", "idempotency_key_reused"], ["ErrorResponse"]],
          PIPELINE_FAILURES,
        ],
      }),
    },
    "/api/execute": {
      post: operation({
        operationId: "execute",
        tag: "execution",
        summary: "Run code in the sandbox of a host-agent with Docker",
        description:
          "`limits` may lower the host's defaults and raise them up to the host's maxima (400 above). Errors from the host carry the run's `execution_id`.",
        access: "apiKey",
        body: true,
        parameters: [param("Pool"), param("IdempotencyKey")],
        requestBody: jsonBody(ref("ExecuteRequest")),
        responses: {
          "200": json("The run ended (whatever its exit code).", ref("ExecuteResponse"), {
            "Idempotent-Replayed": replayed,
          }),
        },
        errors: [
          [ERROR_BODY, ["ErrorResponse"]],
          [["unsupported_media_type", "conflict", "idempotency_key_reused"], ["ErrorResponse"]],
          [
            [
              "invalid_request",
              "cancelled",
              "internal",
              "agent_error",
              "sandbox_error",
              "sandbox_unavailable",
              "agent_lost",
              "timeout",
            ],
            ["ExecuteFailedResponse"],
          ],
        ],
      }),
    },
    "/api/pipelines": {
      get: operation({
        operationId: "listPipelines",
        tag: "pipelines",
        summary: "A pool's recent pipelines, newest first",
        description:
          "The caller's own pipelines (an operator key's: every key's; an edge without keys: all), newest first, kept as long as the pipelines themselves. Follow `next_cursor` until it is null; pipelines that end during the walk neither repeat nor go missing. A filter on a state a pipeline is still passing through (QUEUED, a stage) applies after each running pipeline is asked, so such a page may hold fewer rows than `limit` while more follow.",
        access: "apiKey",
        parameters: [
          param("Pool"),
          {
            name: "state",
            in: "query",
            description: "Comma-separated states to keep, e.g. `COMPLETED,FAILED`.",
            schema: { type: "string" },
          },
          {
            name: "since",
            in: "query",
            description: "Only pipelines created at or after this ISO 8601 time.",
            schema: { type: "string", format: "date-time" },
          },
          {
            name: "until",
            in: "query",
            description: "Only pipelines created before this ISO 8601 time.",
            schema: { type: "string", format: "date-time" },
          },
          {
            name: "limit",
            in: "query",
            description: "Rows per page (default 20).",
            schema: { type: "integer", minimum: 1, maximum: 100 },
          },
          {
            name: "cursor",
            in: "query",
            description: "The `next_cursor` of the page before.",
            schema: { type: "string" },
          },
        ],
        responses: { "200": json("A page of pipelines.", ref("PipelineList")) },
        errors: [BAD_POOL],
      }),
    },
    "/api/pipelines/{id}": {
      get: operation({
        operationId: "getPipeline",
        tag: "pipelines",
        summary: "A pipeline's state, stage, progress, timings, result or error",
        access: "apiKey",
        parameters: [param("PipelineId")],
        responses: { "200": pipelineView },
        errors: [NO_PIPELINE],
      }),
    },
    "/api/pipelines/{id}/cancel": {
      post: operation({
        operationId: "cancelPipeline",
        tag: "pipelines",
        summary: "Cancel a pipeline and its running job on the host",
        access: "apiKey",
        body: true,
        parameters: [param("PipelineId")],
        responses: { "200": json("Cancelled.", ref("CancelResponse")) },
        errors: [NO_PIPELINE, [["conflict"], ["ErrorResponse"]]],
      }),
    },
    "/api/pipelines/{id}/events": {
      get: operation({
        operationId: "getPipelineEvents",
        tag: "pipelines",
        summary: "The pipeline's events as SSE",
        description:
          "Replays the events after the later of `?after` and `Last-Event-ID`, then live ones until the final event. The stream starts with a `retry` field. A finished pipeline with nothing left to send answers 204.",
        access: "apiKey",
        parameters: [param("PipelineId"), param("After"), param("LastEventId"), param("Mode")],
        responses: {
          "200": {
            description: "The events.",
            headers: STREAM_HEADERS,
            content: sse,
          },
          "204": { description: "The pipeline ended and the client has every event.", headers: NO_STORE },
        },
        errors: [NO_PIPELINE, [["invalid_request"], ["ErrorResponse"]]],
      }),
    },
    "/api/pipelines/{id}/artifacts": {
      get: operation({
        operationId: "getArtifactManifest",
        tag: "artifacts",
        summary: "The artifact manifest: path, size, sha256 and language of each file",
        description: "With `Accept: application/x-tar`, the bundle instead (as `artifacts.tar`).",
        access: "artifact",
        parameters: [param("PipelineId")],
        responses: {
          "200": {
            description: "The manifest, or the bundle.",
            headers: {
              "Content-Disposition": { description: "With the bundle: its file name.", schema: { type: "string" } },
            },
            content: {
              "application/json": { schema: ref("ArtifactManifest") },
              "application/x-tar": { schema: { type: "string", contentMediaType: "application/x-tar" } },
            },
          },
        },
        errors: [NO_PIPELINE],
      }),
    },
    "/api/pipelines/{id}/artifacts.tar": {
      get: operation({
        operationId: "getArtifactBundle",
        tag: "artifacts",
        summary: "Every file in one tar",
        access: "artifact",
        parameters: [param("PipelineId")],
        responses: {
          "200": {
            description: "The bundle.",
            headers: {
              "Content-Disposition": {
                description: "`attachment` with `<pipeline id>.tar`.",
                required: true,
                schema: { type: "string" },
              },
            },
            content: { "application/x-tar": { schema: { type: "string", contentMediaType: "application/x-tar" } } },
          },
        },
        errors: [NO_PIPELINE],
      }),
    },
    "/api/pipelines/{id}/artifacts/{path}": {
      get: operation({
        operationId: "getArtifactFile",
        tag: "artifacts",
        summary: "One file",
        access: "artifact",
        parameters: [
          param("PipelineId"),
          {
            name: "path",
            in: "path",
            required: true,
            description: "The file's `path` in the manifest; its `/` may be sent as is or as `%2F`.",
            schema: { type: "string", minLength: 1 },
          },
          {
            name: "If-None-Match",
            in: "header",
            description: "The `ETag` of a copy the client has.",
            schema: { type: "string" },
          },
        ],
        responses: {
          "200": {
            description: "The file.",
            headers: { ETag: { $ref: "#/components/headers/ETag" } },
            content: {
              "text/plain": { schema: { type: "string" } },
              "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } },
            },
          },
          "304": {
            description: "The client's copy is current.",
            headers: { ETag: { $ref: "#/components/headers/ETag" } },
          },
        },
        errors: [NO_PIPELINE, [["invalid_request"], ["ErrorResponse"]]],
      }),
    },
    "/ws/stream": {
      get: operation({
        operationId: "openStream",
        tag: "streams",
        summary: "WebSocket: send a prompt, receive its pipeline's events (the seed's protocol)",
        access: "socket",
        parameters: [param("Upgrade"), param("Mode")],
        responses: { "101": switching("The socket is open; see `x-websocket` for its messages.") },
        errors: [UPGRADE],
        websocket: pipelineSocket(schemas, true),
      }),
    },
    "/ws/pipelines/{id}": {
      get: operation({
        operationId: "followPipeline",
        tag: "streams",
        summary: "WebSocket: follow any pipeline, replaying the events after `after`",
        access: "socket",
        retryAfter: false,
        parameters: [param("Upgrade"), param("PipelineId"), param("After"), param("Mode")],
        responses: { "101": switching("The socket is open; see `x-websocket` for its messages.") },
        errors: [UPGRADE, NO_PIPELINE, [["invalid_request"], ["ErrorResponse"]]],
        websocket: pipelineSocket(schemas, false),
      }),
    },
    "/ws/pool": {
      get: operation({
        operationId: "watchPool",
        tag: "streams",
        summary: "WebSocket: the pool's live overview and pipeline notices (the dashboard's feed)",
        access: "socket",
        parameters: [param("Upgrade"), param("Pool")],
        responses: { "101": switching("The socket is open; see `x-websocket` for its messages.") },
        errors: [UPGRADE, [["invalid_request"], ["ErrorResponse"]]],
        websocket: poolSocket(schemas),
      }),
    },
    "/agent/connect": {
      get: operation({
        operationId: "connectAgent",
        tag: "agents",
        summary: "WebSocket: the host-agent link",
        access: "agent",
        parameters: [
          param("Upgrade"),
          {
            name: AGENT_ID_HEADER,
            in: "header",
            required: true,
            description: "The agent's id; a newer link of the same id replaces the older one.",
            schema: schemas.inline("AgentId"),
          },
        ],
        responses: { "101": switching("Linked; see `x-websocket` for the frames.") },
        errors: [[["invalid_request"], ["ErrorResponse"]], UPGRADE],
        websocket: agentSocket(schemas),
      }),
    },
    "/health": {
      get: operation({
        operationId: "getHealth",
        tag: "observability",
        summary: "Health of the edge and the host-agents behind it",
        access: "none",
        parameters: [param("Pool")],
        responses: { "200": json("Health.", ref("HealthResponse")) },
        errors: [BAD_POOL],
      }),
    },
    "/api/metrics": {
      get: operation({
        operationId: "getMetrics",
        tag: "observability",
        summary: "Request counts, latencies, queue and agents",
        access: "apiKey",
        parameters: [param("Pool")],
        responses: { "200": json("Metrics.", ref("MetricsResponse")) },
        errors: [BAD_POOL],
      }),
    },
    "/api/status": {
      get: operation({
        operationId: "getStatus",
        tag: "observability",
        summary: "Queue, limits and agents",
        access: "apiKey",
        parameters: [param("Pool")],
        responses: { "200": json("Status.", ref("StatusResponse")) },
        errors: [BAD_POOL],
      }),
    },
    "/metrics": {
      get: operation({
        operationId: "getPrometheusMetrics",
        tag: "observability",
        summary: "Prometheus text: counters, gauges, latency histograms in seconds",
        access: "none",
        parameters: [param("Pool")],
        responses: {
          "200": {
            description: "Prometheus text format 0.0.4.",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
        errors: [BAD_POOL],
      }),
    },
    "/api/openapi.json": {
      get: operation({
        operationId: "getOpenApiDocument",
        tag: "document",
        summary: "This document",
        access: "apiKey",
        responses: { "200": json("The OpenAPI document.", { type: "object" }) },
      }),
    },
  };
}

let cached: Record<string, unknown> | null = null;

/**
 * The OpenAPI 3.2 document of the public API, generated from the same zod schemas the routes
 * validate with and build their answers from, so it cannot drift from what the edge accepts.
 * WebSocket messages, which OpenAPI has no place for, are in each such operation's `x-websocket`.
 */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const schemas = generateSchemas();
  cached = {
    openapi: "3.2.0",
    info: {
      title: "Atomic Orchestrator",
      version: VERSION,
      description:
        "LLM code-generation pipelines at the edge. Every error is `{success:false, error:{code,message}, request_id}` with the code's status, every response carries `X-Request-Id`, and a path asked with a method it does not answer gets 405 with `Allow`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "The edge that serves this document." }],
    tags: [
      {
        name: "pipelines",
        description: "Run a prompt through PARSING, GENERATING, PACKAGING (and more) and follow it.",
      },
      { name: "artifacts", description: "The files a pipeline produced." },
      { name: "execution", description: "Run code in a host-agent's sandbox." },
      { name: "streams", description: "Pipeline events and the pool's live feed over WebSocket." },
      { name: "observability", description: "Health, metrics and status." },
      { name: "agents", description: "Where host-agents link." },
      { name: "document", description: "This description." },
    ],
    paths: paths(schemas),
    components: {
      schemas: schemas.components,
      parameters: parameters(),
      headers: {
        ...HEADERS,
        ETag: {
          description: "The file's entity tag, for `If-None-Match`.",
          required: true,
          schema: { type: "string" },
        },
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
  return cached;
}
