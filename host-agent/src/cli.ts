#!/usr/bin/env -S node --max-semi-space-size=2
// The flag caps V8's young generation at 2 MB a half: the host-agent's garbage is short-lived
// frames, and the default (up to 32 MB a half) alone was ~20 MB of its RSS under 200 jobs
// (docs/BENCHMARKS.md). Whatever starts this file with `node` passes the same flag.
/**
 * `atomic-host-agent`: links this machine to an Atomic Orchestrator edge and runs its jobs.
 * Configuration comes from ATOMIC_* environment variables (`--help` lists them). SIGTERM, SIGINT
 * or SIGHUP drains (no new jobs, running ones finish or are handed back); another one more than
 * SAME_STOP_WINDOW_MS later stops at once. Both remove every sandbox container it started.
 *
 * Exit codes: 0 drained, 1 stopped at once or failed, 2 bad arguments or configuration.
 */
import { VERSION } from "../../shared/src/index.ts";
import { readCliArgs, usage } from "./cli-args.ts";
import { ConfigError, loadConfig, type HostAgentConfig } from "./config.ts";
import { HostAgent } from "./host-agent.ts";
import { createLlmClient } from "./ipc/index.ts";
import { createLogger } from "./log.ts";
import { SandboxRuntimeError } from "./sandbox/errors.ts";
import { StopSignals } from "./stop-signals.ts";

const NAME = "atomic-host-agent";

/**
 * How long stopping at once may take: handing jobs back, killing and removing the containers,
 * closing the link (itself bounded at 2 s). Past it the process exits anyway; the next start-up
 * sweeps whatever containers are left.
 */
const STOP_NOW_LIMIT_MS = 15_000;

function fail(message: string, code: number): never {
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(code);
}

function readConfig(): HostAgentConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.problems.map((problem) => `${NAME}: invalid configuration: ${problem}\n`).join(""));
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const request = readCliArgs(process.argv.slice(2));
  if (request.kind === "error") fail(request.message, 2);
  if (request.kind === "help") {
    process.stdout.write(usage());
    return;
  }
  if (request.kind === "version") {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  const config = readConfig();
  const logger = createLogger(config.ATOMIC_LOG_LEVEL, { service: "host-agent" });
  const agent = new HostAgent(config, createLlmClient(config, logger), logger);

  const stops = new StopSignals();
  let stoppingNow = false;
  const stopNow = () => {
    if (stoppingNow) return;
    stoppingNow = true;
    setTimeout(() => {
      logger.error("stopping took too long; exiting (the next start removes leftover containers)");
      process.exit(1);
    }, STOP_NOW_LIMIT_MS).unref();
    agent.stopNow().then(
      () => process.exit(1),
      (error: unknown) => {
        logger.error("stopping failed", { error });
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const action = stops.next(performance.now());
    if (action === "repeat") {
      logger.info("stop signal repeated: already stopping", { signal });
      return;
    }
    if (action === "now") {
      logger.warn("second stop signal: stopping now", { signal });
      stopNow();
      return;
    }
    logger.info("shutting down: draining (another signal stops at once)", {
      signal,
      drain_timeout_ms: config.ATOMIC_DRAIN_TIMEOUT_MS,
    });
    // A drain that hangs must not keep the process alive past its budget.
    setTimeout(() => {
      if (stoppingNow) return;
      logger.error("drain did not finish in time; stopping now");
      stopNow();
    }, config.ATOMIC_DRAIN_TIMEOUT_MS + 10_000).unref();
    agent.drain().then(
      () => {
        // Stopping at once ends the process itself, with its own exit code.
        if (!stoppingNow) process.exit(0);
      },
      (error: unknown) => {
        logger.error("drain failed; stopping now", { error });
        stopNow();
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, onSignal);
  process.on("unhandledRejection", (error) => logger.error("unhandled rejection", { error }));
  await agent.start();
}

main().catch((error: unknown) => {
  // ATOMIC_SANDBOX_RUNTIME names a runtime the engine lacks: a configuration error, said plainly.
  if (error instanceof SandboxRuntimeError) fail(`invalid configuration: ${error.message}`, 2);
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error), 1);
});
