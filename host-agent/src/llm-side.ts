import type { HostAgentConfig } from "./config.ts";
import type { LlmSide } from "./host-agent.ts";
import { IpcPool } from "./ipc/index.ts";
import type { Logger } from "./log.ts";

/** The LLM side of a host-agent: a pool of IPC connections to the Python agent on ATOMIC_IPC_SOCKET. */
export function createLlmSide(config: HostAgentConfig, logger: Logger): LlmSide {
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
    close: () => pool.close(),
  };
}
