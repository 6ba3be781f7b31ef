import type { HostAgentConfig } from "./config.ts";
import type { LlmSide } from "./host-agent.ts";
import { IpcPool } from "./ipc/index.ts";
import type { Logger } from "./log.ts";

/** The LLM side of a host-agent: a pool of IPC connections to the Python agent on ATOMIC_IPC_SOCKET. */
export function createLlmSide(config: HostAgentConfig, logger: Logger): LlmSide {
  const pool = new IpcPool({
    socketPath: config.ATOMIC_IPC_SOCKET,
    size: config.ATOMIC_IPC_POOL_SIZE,
    requestTimeoutMs: config.ATOMIC_IPC_TIMEOUT_MS,
    logger,
  });
  pool.onHealthChange((health, previous) => {
    const fields = {
      socket: config.ATOMIC_IPC_SOCKET,
      status: health.status,
      was: previous.status,
      detail: health.detail,
    };
    if (health.status === "healthy")
      logger.info("llm agent healthy", { ...fields, provider: health.provider, model: health.model });
    else logger.warn(`llm agent ${health.status}`, fields);
  });
  return {
    start: () => pool.start(),
    health: () => pool.health,
    parse: (payload, options) => pool.request("parse", payload, options),
    generate: (payload, options) => pool.stream("generate", payload, options),
    close: () => pool.close(),
  };
}
