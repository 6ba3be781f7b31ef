import { z } from "zod";

/**
 * The IPC protocol between the host-agent and an LLM agent (docs/ipc-protocol.md): newline-delimited
 * JSON over a Unix stream socket, one object per line, every message with a `type` and an `id`.
 * Peers ignore fields they do not know, so additions stay readable by older peers.
 */

/** Longest line either side may send, in bytes, not counting its newline. */
export const IPC_MAX_LINE_BYTES = 1_048_576;
export const IPC_DEFAULT_SOCKET = "/tmp/atomic_llm_agent.sock";

/** Ids are chosen by the client, unique among the requests in flight on one connection. */
export const IpcId = z.string().min(1).max(128);

export const IpcTask = z.enum(["generate", "parse", "repair"]);
export type IpcTask = z.infer<typeof IpcTask>;

export const IpcErrorCode = z.enum([
  "invalid_request",
  "llm_error",
  "llm_unavailable",
  "timeout",
  "cancelled",
  "internal",
]);
export type IpcErrorCode = z.infer<typeof IpcErrorCode>;

// ---- payloads and results ----

export const IpcRequirements = z.object({
  language: z.string().min(1),
  framework: z.string().nullable(),
  entry_file: z.string().min(1),
  summary: z.string(),
  source: z.string().optional(),
});
export type IpcRequirements = z.infer<typeof IpcRequirements>;

export const IpcGeneratePayload = z.object({
  prompt: z.string().min(1),
  requirements: IpcRequirements,
  metadata: z.record(z.string(), z.unknown()),
});
export type IpcGeneratePayload = z.infer<typeof IpcGeneratePayload>;

export const IpcParsePayload = z.object({
  prompt: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()),
});
export type IpcParsePayload = z.infer<typeof IpcParsePayload>;

/**
 * `repair`: the request, the program's current files, the paths the model must not change and
 * what failed (already trimmed by the edge). Answered like `generate`: fenced files, streamed.
 */
export const IpcRepairPayload = z.object({
  prompt: z.string(),
  language: z.string().min(1),
  files: z.array(z.object({ path: z.string().min(1), content: z.string() })).min(1),
  pinned: z.array(z.string()),
  failures: z.string(),
  round: z.number().int().positive(),
});
export type IpcRepairPayload = z.infer<typeof IpcRepairPayload>;

/** The result of `generate` and `repair`. `chars` is the length of all the text, in UTF-16 code units. */
export const IpcGenerateResult = z.object({
  chars: z.number().int().nonnegative(),
  finish_reason: z.string(),
  provider: z.string(),
  model: z.string().optional(),
  /** Only when the request was not streamed. */
  content: z.string().optional(),
});
export type IpcGenerateResult = z.infer<typeof IpcGenerateResult>;

/** The result of a `generate` that was not streamed: the text comes in `content`. */
export const IpcGenerateContentResult = IpcGenerateResult.extend({ content: z.string() });
export type IpcGenerateContentResult = z.infer<typeof IpcGenerateContentResult>;

export const IpcParseResult = z.object({
  language: z.string().min(1),
  framework: z.string().nullable(),
  entry_file: z.string().min(1),
  summary: z.string(),
});
export type IpcParseResult = z.infer<typeof IpcParseResult>;

// ---- messages the host-agent sends ----

export const IpcRequest = z.object({
  type: z.literal("REQUEST"),
  id: IpcId,
  task: IpcTask,
  payload: z.record(z.string(), z.unknown()),
  stream: z.boolean(),
  /** Optional deadline: the agent ends the request with ERROR `timeout` when it passes. */
  timeout_ms: z.number().int().positive().optional(),
});
export type IpcRequest = z.infer<typeof IpcRequest>;

export const IpcHealthCheck = z.object({ type: z.literal("HEALTH_CHECK"), id: IpcId });
export type IpcHealthCheck = z.infer<typeof IpcHealthCheck>;

/** Asks the agent to stop the request with this id; it answers with ERROR `cancelled`. */
export const IpcCancel = z.object({ type: z.literal("CANCEL"), id: IpcId });
export type IpcCancel = z.infer<typeof IpcCancel>;

// ---- either side ----

export const IpcErrorBody = z.object({
  code: IpcErrorCode,
  message: z.string(),
  retryable: z.boolean(),
});
export type IpcErrorBody = z.infer<typeof IpcErrorBody>;

/** `id` is null when the line it answers had no readable id (not JSON, too long, ...). */
export const IpcErrorMessage = z.object({
  type: z.literal("ERROR"),
  id: IpcId.nullable(),
  error: IpcErrorBody,
});
export type IpcErrorMessage = z.infer<typeof IpcErrorMessage>;

// ---- messages the agent sends ----

export const IpcResponse = z.object({
  type: z.literal("RESPONSE"),
  id: IpcId,
  /** Checked against the task's result schema by whoever sent the request. */
  result: z.unknown(),
});
export type IpcResponse = z.infer<typeof IpcResponse>;

export const IpcStreamChunk = z.object({
  type: z.literal("STREAM_CHUNK"),
  id: IpcId,
  delta: z.string(),
});
export type IpcStreamChunk = z.infer<typeof IpcStreamChunk>;

export const IpcHealthResponse = z.object({
  type: z.literal("HEALTH_RESPONSE"),
  id: IpcId,
  status: z.enum(["healthy", "unhealthy"]),
  /** "offline" or "openai" for the reference agent. */
  provider: z.string(),
  model: z.string(),
  detail: z.string().optional(),
  protocol: z.number().int().optional(),
  version: z.string().optional(),
  /** Connections the agent has open right now (the reference agent reports it). */
  connections: z.number().int().nonnegative().optional(),
  in_flight: z.number().int().nonnegative().optional(),
});
export type IpcHealthResponse = z.infer<typeof IpcHealthResponse>;

/** Every message an agent may send. */
export const AgentMessage = z.discriminatedUnion("type", [
  IpcResponse,
  IpcStreamChunk,
  IpcErrorMessage,
  IpcHealthResponse,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

/** Every message a host-agent may send. */
export const HostMessage = z.discriminatedUnion("type", [IpcRequest, IpcHealthCheck, IpcCancel, IpcErrorMessage]);
export type HostMessage = z.infer<typeof HostMessage>;
