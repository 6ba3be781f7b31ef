import { z } from "zod";
import {
  AgentToEdge,
  ArtifactFile,
  ArtifactManifest,
  ArtifactsSummary,
  CancelResponse,
  ChunkEvent,
  ClientCommand,
  EdgeToAgent,
  ErrorBody,
  ErrorCode,
  ErrorEvent,
  ErrorResponse,
  ExecuteRequest,
  ExecuteResult,
  ExportOutcome,
  GenerateAccepted,
  GenerateRequest,
  GenerateResponse,
  HealthResponse,
  Hello,
  MetricsResponse,
  PipelineLinks,
  PipelineState,
  PipelineList,
  PipelineSummary,
  PipelineView,
  PoolEvent,
  PoolName,
  QueuedEvent,
  Requirements,
  ResultEvent,
  StageEvent,
  StageTiming,
  StatusResponse,
  TestCounts,
  TestFailure,
  Verification,
  VerificationEvent,
  VerificationRound,
  VerifyStep,
} from "../../../shared/src/index.ts";

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1 and later) as the document holds it. */
export type JsonSchema = Record<string, unknown>;

/**
 * A synchronous `POST /api/generate` whose pipeline failed: the error body, plus the pipeline it
 * ran, so the caller can read its events and state afterwards.
 */
export const PipelineFailedResponse = ErrorResponse.extend({ pipeline_id: z.string(), state: PipelineState });

/** 200 answer of `POST /api/execute`: the sandbox's result with the request's ids. */
export const ExecuteResponse = ExecuteResult.extend({
  success: z.literal(true),
  request_id: z.string(),
  execution_id: z.string(),
});
export type ExecuteResponse = z.infer<typeof ExecuteResponse>;

/** A `POST /api/execute` that reached a host-agent (or waited for one) and failed there. */
export const ExecuteFailedResponse = ErrorResponse.extend({ execution_id: z.string() });

/** The answer to a client's `{"type":"ping"}` frame on a pipeline socket. */
export const PongFrame = z.object({ type: z.literal("pong") });

/** Every event of `ClientEvent`, by the name the document gives its schema. */
export const CLIENT_EVENTS = {
  QueuedEvent,
  StageEvent,
  ChunkEvent,
  VerificationEvent,
  ResultEvent,
  ErrorEvent,
} as const;

// What the service sends: `z.object` strips unknown keys, so zod writes these with
// `additionalProperties: false` and a field the service adds without a schema fails validation.
const OUTPUTS = {
  ErrorCode,
  ErrorBody,
  ErrorResponse,
  PipelineFailedResponse,
  ExecuteFailedResponse,
  PipelineState,
  StageTiming,
  Requirements,
  ArtifactFile,
  ArtifactsSummary,
  ArtifactManifest,
  TestCounts,
  TestFailure,
  VerifyStep,
  VerificationRound,
  Verification,
  ExportOutcome,
  PipelineLinks,
  GenerateResponse,
  GenerateAccepted,
  PipelineView,
  PipelineSummary,
  PipelineList,
  CancelResponse,
  ExecuteResponse,
  HealthResponse,
  MetricsResponse,
  StatusResponse,
  ...CLIENT_EVENTS,
} as const;

// What the service reads: unknown keys of a plain `z.object` are dropped, not refused, so these
// keep `additionalProperties` open where the route does.
const INPUTS = { GenerateRequest, ExecuteRequest, PoolName } as const;

/** The name of a component schema. */
export type SchemaName = keyof typeof OUTPUTS | keyof typeof INPUTS;

type InlineName =
  "ServerFrame" | "EdgeToAgent" | "ClientCommand" | "AgentToEdge" | "AgentId" | "PoolEvent" | "PoolPing";

// Written where they are used, not as components: WebSocket frames live in an extension (OpenAPI
// has no place for them) and a linter counts no reference from there.
const INLINE: Record<InlineName, { io: "input" | "output"; schema: z.ZodType }> = {
  ServerFrame: {
    io: "output",
    schema: z.union([QueuedEvent, StageEvent, ChunkEvent, VerificationEvent, ResultEvent, ErrorEvent, PongFrame]),
  },
  EdgeToAgent: { io: "output", schema: EdgeToAgent },
  ClientCommand: { io: "input", schema: ClientCommand },
  AgentToEdge: { io: "input", schema: AgentToEdge },
  AgentId: { io: "input", schema: Hello.shape.agent_id },
  PoolEvent: { io: "output", schema: z.union([PoolEvent, PongFrame]) },
  PoolPing: { io: "input", schema: z.object({ type: z.literal("ping") }) },
};

/** Converts `schemas` in one pass, so a schema inside another that is also listed becomes a `$ref`. */
function generate(schemas: Record<string, z.ZodType>, io: "input" | "output"): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    unrepresentable: "throw",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    // Components sit inside the document: its dialect applies and their address is their place
    // in it, so a `$schema` or `$id` of their own would only mislead a resolver.
    const { $schema: _dialect, $id: _id, ...rest } = schema;
    out[id] = rest;
  }
  return out;
}

/** The generated schemas: components by name, and the inline ones by name. */
export interface GeneratedSchemas {
  components: Record<string, JsonSchema>;
  inline(name: InlineName): JsonSchema;
}

/** The component schemas and the inline ones, generated from the zod schemas the edge uses. */
export function generateSchemas(): GeneratedSchemas {
  return {
    components: { ...generate(OUTPUTS, "output"), ...generate(INPUTS, "input") },
    inline(name) {
      // Alone with the components, so that it refers to them but holds any other schema in full.
      const { io, schema } = INLINE[name];
      const generated = generate({ ...(io === "output" ? OUTPUTS : INPUTS), [name]: schema }, io)[name];
      if (!generated) throw new Error(`no schema ${name} was generated`);
      return generated;
    },
  };
}

/** `{"$ref": "#/components/schemas/<name>"}`. */
export function ref(name: SchemaName): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}
