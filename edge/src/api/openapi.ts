import { z } from "zod";
import {
  CancelResponse,
  ClientEvent,
  ErrorResponse,
  GenerateAccepted,
  GenerateRequest,
  GenerateResponse,
  HealthResponse,
  MetricsResponse,
  PipelineView,
  StatusResponse,
} from "../../../shared/src/index.ts";
import { VERSION } from "../../../shared/src/index.ts";

const schema = (s: z.ZodType, io: "input" | "output" = "output") =>
  z.toJSONSchema(s, { io, unrepresentable: "any", target: "openapi-3.0" });

const json = (s: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema: schema(s) } },
});
const error = (description: string) => json(ErrorResponse, description);
const idParam = { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } };

/**
 * The OpenAPI 3 document of the public API, generated from the same zod schemas the routes
 * validate with, so it cannot drift from what the edge accepts.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.0.3",
    info: {
      title: "Atomic Orchestrator",
      version: VERSION,
      description:
        "LLM code-generation pipelines at the edge. Every error is {success:false, error:{code,message}, request_id}.",
    },
    paths: {
      "/api/generate": {
        post: {
          summary: "Run a pipeline for a prompt",
          description:
            "Waits for the pipeline by default. `Prefer: respond-async` or `async: true` answers 202 with links; `Accept: text/event-stream` streams its events as SSE.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(GenerateRequest, "input") } },
          },
          responses: {
            "200": json(GenerateResponse, "The pipeline completed"),
            "202": json(GenerateAccepted, "Accepted; follow the links"),
            "400": error("Malformed or invalid body"),
            "413": error("Body over ATOMIC_MAX_BODY_BYTES"),
            "429": error("Queue full (see Retry-After)"),
            "503": error("No host-agent could take the work in time"),
          },
        },
      },
      "/api/pipelines/{id}": {
        get: {
          summary: "A pipeline's state",
          parameters: [idParam],
          responses: { "200": json(PipelineView, "The pipeline"), "404": error("No such pipeline") },
        },
      },
      "/api/pipelines/{id}/cancel": {
        post: {
          summary: "Cancel a pipeline",
          parameters: [idParam],
          responses: {
            "200": json(CancelResponse, "Cancelled"),
            "404": error("No such pipeline"),
            "409": error("Already ended"),
          },
        },
      },
      "/api/pipelines/{id}/events": {
        get: {
          summary: "The pipeline's events as SSE (resumable with Last-Event-ID or ?after=)",
          parameters: [idParam, { name: "after", in: "query", schema: { type: "integer", minimum: 0 } }],
          responses: {
            "200": {
              description: "text/event-stream of ClientEvent",
              content: { "text/event-stream": { schema: schema(ClientEvent) } },
            },
          },
        },
      },
      "/api/pipelines/{id}/artifacts": {
        get: {
          summary: "The artifact manifest",
          parameters: [idParam],
          responses: { "200": { description: "Manifest" }, "404": error("No artifacts") },
        },
      },
      "/api/pipelines/{id}/artifacts.tar": {
        get: {
          summary: "Every file as one tar",
          parameters: [idParam],
          responses: { "200": { description: "application/x-tar" }, "404": error("No artifacts") },
        },
      },
      "/api/pipelines/{id}/artifacts/{path}": {
        get: {
          summary: "One artifact file",
          parameters: [idParam, { name: "path", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "The file" }, "404": error("No such file") },
        },
      },
      "/health": { get: { summary: "Health", responses: { "200": json(HealthResponse, "Health") } } },
      "/api/metrics": { get: { summary: "Metrics", responses: { "200": json(MetricsResponse, "Metrics") } } },
      "/api/status": { get: { summary: "Status", responses: { "200": json(StatusResponse, "Status") } } },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "text/plain; version=0.0.4" } } },
      },
      "/ws/stream": {
        get: {
          summary: "WebSocket: send a GenerateRequest, receive ClientEvents (the seed's chunk protocol)",
          responses: {
            "101": {
              description: "Switching protocols",
              content: { "application/json": { schema: schema(ClientEvent) } },
            },
          },
        },
      },
      "/ws/pipelines/{id}": {
        get: {
          summary: "WebSocket: follow a pipeline, replaying events after ?after=SEQ",
          parameters: [idParam, { name: "after", in: "query", schema: { type: "integer", minimum: 0 } }],
          responses: { "101": { description: "Switching protocols" } },
        },
      },
      "/agent/connect": {
        get: {
          summary: "WebSocket: the host-agent link (Authorization: Bearer ATOMIC_AGENT_TOKEN)",
          responses: { "101": { description: "Linked" }, "401": error("Bad or missing token") },
        },
      },
    },
  };
}
