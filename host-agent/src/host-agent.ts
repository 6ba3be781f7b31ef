import type { AgentHealth } from "../../shared/src/index.ts";
import { VERSION } from "../../shared/src/index.ts";
import type { HostAgentConfig } from "./config.ts";
import type { LlmClient } from "./ipc/index.ts";
import { createHandlers } from "./jobs/handlers.ts";
import { JobRunner } from "./jobs/job-runner.ts";
import { LinkClient } from "./link/link-client.ts";
import type { Logger } from "./log.ts";
import { DockerSandbox, sandboxOptionsFromEnv } from "./sandbox/index.ts";

/**
 * The host-agent: links to the edge, runs the jobs it is given (LLM through the IPC pool, code in
 * the Docker sandbox, exports to disk or git) and reports their events and results.
 */
export class HostAgent {
  readonly config: HostAgentConfig;
  readonly #log: Logger;
  readonly #llm: LlmClient;
  #sandbox: DockerSandbox | null = null;
  #docker: AgentHealth["docker"] = { status: "unavailable", detail: "not checked yet" };
  #runner: JobRunner | null = null;
  #link: LinkClient | null = null;
  #dockerTimer: NodeJS.Timeout | null = null;
  #draining = false;
  #stoppingNow = false;
  #stopped: Promise<void> | undefined;

  constructor(config: HostAgentConfig, llm: LlmClient, logger: Logger) {
    this.config = config;
    this.#llm = llm;
    this.#log = logger.child({ agent_id: config.ATOMIC_AGENT_ID });
  }

  get link(): LinkClient | null {
    return this.#link;
  }

  health(): AgentHealth {
    return { llm: this.#llm.health(), docker: this.#docker };
  }

  async start(): Promise<void> {
    const config = this.config;
    this.#llm.start();
    if (config.ATOMIC_SANDBOX !== "off") await this.#startSandbox();
    // A stop during start-up has already closed what exists: link nothing more.
    if (this.#stopped) return;
    this.#runner = new JobRunner({
      capacity: config.ATOMIC_THREADS,
      logger: this.#log,
      tokenFlushMs: config.ATOMIC_TOKEN_FLUSH_MS,
      handlers: createHandlers({
        llm: this.#llm,
        sandbox: this.#sandbox,
        exportDir: config.ATOMIC_EXPORT_DIR,
        edgeUrl: config.ATOMIC_EDGE_URL,
        token: config.ATOMIC_AGENT_TOKEN,
      }),
    });
    const runner = this.#runner;
    this.#link = new LinkClient({
      edgeUrl: config.ATOMIC_EDGE_URL,
      token: config.ATOMIC_AGENT_TOKEN,
      agentId: config.ATOMIC_AGENT_ID,
      pool: config.ATOMIC_POOL,
      labels: config.ATOMIC_AGENT_LABELS,
      capacity: config.ATOMIC_THREADS,
      kinds: runner.kinds,
      version: VERSION,
      logger: this.#log,
      health: () => this.health(),
      running: () => runner.running(),
      onAssign: (job) => runner.assign(job),
      onCancel: (cancel) => runner.cancel(cancel.job_id, cancel.attempt, cancel.reason),
      onFailed: (failed) => runner.abandon(failed.job_id, failed.attempt, failed.error),
      outbox: { maxFrames: config.ATOMIC_OUTBOX_MAX_FRAMES, maxBytes: config.ATOMIC_OUTBOX_MAX_BYTES },
    });
    runner.attach(this.#link);
    // The edge must not place LLM jobs here while the agent is down: tell it at once, not at the
    // next heartbeat.
    const link = this.#link;
    this.#llm.onHealthChange(() => link.reportHealth());
    this.#link.start();
    this.#log.info("host-agent started", {
      edge: config.ATOMIC_EDGE_URL,
      threads: config.ATOMIC_THREADS,
      kinds: runner.kinds,
      ipc_socket: config.ATOMIC_IPC_SOCKET,
      export_dir: config.ATOMIC_EXPORT_DIR,
      docker: this.#docker.status,
      sandbox_runtime: this.#sandbox?.runtime ?? null,
    });
  }

  async #startSandbox(): Promise<void> {
    const sandbox = new DockerSandbox({
      ...sandboxOptionsFromEnv(this.config),
      agentId: this.config.ATOMIC_AGENT_ID,
      logger: this.#log,
    });
    // Held from here on, so that a stop during start-up closes it (and its warm pool) too.
    this.#sandbox = sandbox;
    // A runtime the engine lacks is the operator's mistake: stop here, saying how to fix it.
    try {
      await sandbox.checkRuntime();
    } catch (error) {
      this.#sandbox = null;
      await sandbox.close();
      throw error;
    }
    const availability = await sandbox.availability();
    this.#docker = availability;
    if (availability.status !== "available") {
      this.#log.warn("Docker sandbox unavailable: sandbox jobs go to other hosts", { detail: availability.detail });
      this.#sandbox = null;
      await sandbox.close();
      return;
    }
    const { swept } = await sandbox.start();
    if (swept > 0) this.#log.info("removed sandbox containers left by an earlier run", { swept });
    if (this.#stopped) return;
    this.#dockerTimer = setInterval(() => {
      sandbox
        .availability()
        .then((state) => {
          this.#docker = state;
        })
        .catch((error: unknown) => {
          this.#docker = { status: "unavailable", detail: String(error) };
        });
    }, 15_000);
    this.#dockerTimer.unref();
  }

  /**
   * Graceful stop: no new jobs, running ones finish (up to ATOMIC_DRAIN_TIMEOUT_MS) or are handed
   * back, their results reach the edge, then the link closes with 1001 and every sandbox container
   * is removed.
   */
  async drain(): Promise<void> {
    const link = this.#link;
    const runner = this.#runner;
    if (!link || !runner) return this.stop();
    this.#log.info("draining: no new jobs; finishing the running ones", { running: runner.running().length });
    this.#tellEdgeDraining(link);
    const { finished, handedBack } = await runner.drain(this.config.ATOMIC_DRAIN_TIMEOUT_MS);
    // Cut short by stopNow(), which handed the jobs back and reports that itself.
    if (this.#stoppingNow) return this.stop();
    const flushed = await link.flushed(Math.min(5_000, this.config.ATOMIC_DRAIN_TIMEOUT_MS + 1_000));
    this.#log.info("drained", { finished, handed_back: handedBack, all_acked: flushed });
    await this.stop();
  }

  /**
   * Stops without waiting for the running jobs: they are handed back to the edge (which places
   * them again elsewhere), their containers killed and removed with the warm ones, then the link
   * closes. Safe to call while a {@link HostAgent.drain} is in progress.
   */
  async stopNow(): Promise<void> {
    this.#stoppingNow = true;
    const link = this.#link;
    const runner = this.#runner;
    if (link && runner) {
      this.#tellEdgeDraining(link);
      const { handedBack } = await runner.drain(0);
      this.#log.warn("stopping now", { handed_back: handedBack });
    }
    await this.stop();
  }

  #tellEdgeDraining(link: LinkClient): void {
    if (this.#draining) return;
    this.#draining = true;
    link.drain();
  }

  /** Closes the link (1001), the sandbox (removing its containers) and the IPC pool; once, however often called. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stopOnce();
    return this.#stopped;
  }

  async #stopOnce(): Promise<void> {
    if (this.#dockerTimer) clearInterval(this.#dockerTimer);
    await this.#link?.close(1001, "host-agent shutting down");
    await this.#sandbox?.close().catch((error: unknown) => this.#log.warn("sandbox close failed", { error }));
    await this.#llm.close();
  }
}
