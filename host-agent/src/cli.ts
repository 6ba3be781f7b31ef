#!/usr/bin/env -S node --max-semi-space-size=2
// The flag caps V8's young generation at 2 MB a half: the host-agent's garbage is short-lived
// frames, and the default (up to 32 MB a half) alone was ~20 MB of its RSS under 200 jobs
// (docs/BENCHMARKS.md). Whatever starts this file with `node` passes the same flag.
/**
 * `atomic-host-agent`: links this machine to an Atomic Orchestrator edge and runs its jobs.
 * Configuration comes from ATOMIC_* environment variables (see the README); SIGTERM or Ctrl-C
 * drains (no new jobs, running ones finish or are handed back), a second one stops at once.
 */
import { ConfigError, loadConfig } from "./config.ts";
import { HostAgent } from "./host-agent.ts";
import { createLlmClient } from "./ipc/index.ts";
import { createLogger } from "./log.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`atomic-host-agent: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.ATOMIC_LOG_LEVEL, { service: "host-agent" });
  const agent = new HostAgent(config, createLlmClient(config, logger), logger);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn("second signal: stopping now", { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info("shutting down", { signal, drain_timeout_ms: config.ATOMIC_DRAIN_TIMEOUT_MS });
    // A drain that hangs must not keep the process alive past its budget.
    setTimeout(() => {
      logger.error("drain did not finish in time; stopping");
      process.exit(1);
    }, config.ATOMIC_DRAIN_TIMEOUT_MS + 10_000).unref();
    agent
      .drain()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error("drain failed", { error });
        process.exit(1);
      });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", (error) => logger.error("unhandled rejection", { error }));
  await agent.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `atomic-host-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
