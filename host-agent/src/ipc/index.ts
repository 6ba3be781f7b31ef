/** The host-agent's IPC client for LLM agents (docs/ipc-protocol.md). */
export { IpcPool } from "./ipc-pool.ts";
export { IpcError } from "./ipc-error.ts";
export { createLlmClient } from "./llm-client.ts";
export type { LlmClient } from "./llm-client.ts";
export * from "./protocol.ts";
