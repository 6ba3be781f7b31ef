import type { AgentHealth, GeneratePayload, ParsePayload, RepairPayload } from "../../../shared/src/index.ts";
import type { HostAgentConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { IpcPool } from "./ipc-pool.ts";

/**
 * The host-agent's client of its LLM agent: the calls LLM jobs make, and the agent's health,
 * which the host-agent reports to the edge so that LLM jobs go elsewhere while the agent is down.
 */
export interface LlmClient {
  /** Starts the periodic health checks. */
  start(): void;
  /** The latest health seen; `unavailable` until the first check. */
  health(): AgentHealth["llm"];
  /** Calls `listener` whenever the LLM agent's health changes. */
  onHealthChange(listener: () => void): void;
  /** Looks at the agent's health now (its listeners hear of a change before this resolves). */
  refreshHealth(): Promise<void>;
  parse(payload: ParsePayload, options: { signal?: AbortSignal }): Promise<unknown>;
  /** Streams the generated text to `onChunk`, piece by piece, and resolves with the final result. */
  generate(
    payload: GeneratePayload,
    options: { signal?: AbortSignal; onChunk: (delta: string) => void },
  ): Promise<unknown>;
  /**
   * Asks for fixed files after a failed verification; streams the answer (fenced files, in the
   * format of `generate`) to `onChunk` and resolves with the same kind of final result.
   */
  repair(payload: RepairPayload, options: { signal?: AbortSignal; onChunk: (delta: string) => void }): Promise<unknown>;
  /** Stops the health checks and closes every connection; calls in flight fail (retryable). */
  close(): Promise<void>;
}

/** A client of the Python agent on ATOMIC_IPC_SOCKET, over a pool of IPC connections. */
export function createLlmClient(
  config: Pick<
    HostAgentConfig,
    "ATOMIC_IPC_SOCKET" | "ATOMIC_IPC_POOL_SIZE" | "ATOMIC_IPC_TIMEOUT_MS" | "ATOMIC_IPC_HEALTH_MS"
  >,
  logger: Logger,
): LlmClient {
  // The pool logs its own health changes (with the socket path), so nothing is added here.
  const pool = new IpcPool({
    socketPath: config.ATOMIC_IPC_SOCKET,
    size: config.ATOMIC_IPC_POOL_SIZE,
    requestTimeoutMs: config.ATOMIC_IPC_TIMEOUT_MS,
    // A restarted agent should be back in service within a couple of seconds; a health check over
    // a Unix socket costs next to nothing.
    healthIntervalMs: config.ATOMIC_IPC_HEALTH_MS,
    logger,
  });
  return {
    start: () => pool.start(),
    health: () => pool.health,
    onHealthChange: (listener) => pool.onHealthChange(() => listener()),
    refreshHealth: async () => {
      await pool.checkHealth();
    },
    parse: (payload, options) => pool.request("parse", payload, options),
    generate: (payload, options) => pool.stream("generate", payload, options),
    repair: (payload, options) => pool.stream("repair", payload, options),
    close: () => pool.close(),
  };
}
