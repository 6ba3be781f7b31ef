/**
 * @atomic-orchestrator/sdk: a client of the Atomic Orchestrator API for browsers, Workers and Node.
 * It uses only `fetch` and the standard `WebSocket`; `@atomic-orchestrator/sdk/node` adds writing
 * artifacts to a folder.
 */
export { AtomicClient, ExecuteAnswer } from "./client.ts";
export type {
  AtomicClientOptions,
  CallOptions,
  ExecuteInput,
  GenerateInput,
  StreamInput,
  WorkOptions,
} from "./client.ts";
export type { StreamOptions } from "./event-stream.ts";
export type { EventsOptions, PipelineQuery, Pipelines } from "./pipelines.ts";
export type { Artifacts } from "./artifacts.ts";
export type { WebSocketConstructor, WebSocketLike } from "./socket.ts";
export type { FetchLike } from "./transport.ts";
export { AtomicApiError, AtomicConnectionError, AtomicIntegrityError, AtomicProtocolError } from "./errors.ts";

export { ERROR_STATUS, ErrorCode, ErrorResponse } from "../../shared/src/errors.ts";
export {
  ArtifactManifest,
  ArtifactsSummary,
  CancelResponse,
  GenerateAccepted,
  GenerateRequest,
  GenerateResponse,
  HealthResponse,
  MetricsResponse,
  PipelineList,
  PipelineSummary,
  PipelineView,
  PIPELINE_LIST_LIMITS,
} from "../../shared/src/protocol/api.ts";
export {
  ChunkEvent,
  ClientEvent,
  ErrorEvent,
  QueuedEvent,
  ResultEvent,
  StageEvent,
  VerificationEvent,
} from "../../shared/src/protocol/client-events.ts";
export { ArtifactFile, PipelineState, StageName } from "../../shared/src/protocol/common.ts";
export { ExecuteRequest, ExecuteResult } from "../../shared/src/protocol/sandbox.ts";
