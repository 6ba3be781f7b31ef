import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import type { AgentHealth } from "../../../shared/src/protocol/agent-link.ts";
import type { ExecuteRequest, ExecuteResult, ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";
import type { VerifyPayload, VerifyReport } from "../../../shared/src/protocol/verification.ts";
import { createLogger, type Logger } from "../log.ts";
import { launchContainer, removeContainer, type LaunchedContainer } from "./container-launch.ts";
import {
  containerSpec,
  LABEL_AGENT,
  LABEL_INSTANCE,
  LABEL_SANDBOX,
  SANDBOX_UID,
  SANDBOX_UID_COUNT,
  type SandboxRuntime,
} from "./container-spec.ts";
import {
  engineAddress,
  engineError,
  engineMessage,
  isEngineUnreachable,
  isNotFound,
  missingImageDetail,
} from "./engine-errors.ts";
import { RUNSC_REQUIRED_ARGS, SandboxError, SandboxRuntimeError } from "./errors.ts";
import { UidSlots } from "./identities.ts";
import { limitPolicyFromEnv, resolveLimits, sameContainerLimits, SandboxEnv, type LimitPolicy } from "./limits.ts";
import { parseExecuteRequest } from "./parse-request.ts";
import { planProgram, type Program } from "./program.ts";
import { runInContainer } from "./run-container.ts";
import { parseVerifyPayload, planVerification, readVerifyReport, verificationLimits } from "./verification.ts";
import { WarmPool } from "./warm-pool.ts";

/** `{status, detail?}` as the host-agent reports it to the edge. */
export type SandboxAvailability = AgentHealth["docker"];

/** How a {@link DockerSandbox} is set up. Every field has a default. */
export interface DockerSandboxOptions {
  /** Image to run (default `atomic-sandbox:latest`). */
  image?: string;
  /** Default and maximum limits (default: those of an empty {@link SandboxEnv}). */
  limits?: LimitPolicy;
  /** Warm containers to keep ready (default 2; 0 = every run starts cold). */
  warm?: number;
  /** Bytes of stdout and of stderr kept per run (default 64 KiB). */
  outputLimitBytes?: number;
  /** Total output after which a run is killed as a flood (default max(8 MiB, 4 × outputLimitBytes); 0 = never). */
  outputKillBytes?: number;
  /**
   * Names this host-agent on its containers' labels, so that `sweep()` after a crash removes its
   * leftovers and nothing of another host-agent sharing the engine (default `host-agent`).
   */
  agentId?: string;
  /** The container runtime of every container, warm ones included (default `runc`; `runsc`: gVisor). */
  runtime?: SandboxRuntime;
  /**
   * How long after a run's answer its container's removal and the warm pool's refill start
   * (default 100 ms). Both keep the engine and the kernel busy for a few hundred ms; started at
   * once they compete with the answer's way back through an edge on the same machine (`npm
   * start`): warm `print(1)` through `/api/execute` p50 68-73 ms at 0, 50-52 ms at 60-150 ms
   * (docs/BENCHMARKS.md). 0 starts them at once.
   */
  cleanupDelayMs?: number;
  /** The engine client (default `new Docker()`: `DOCKER_HOST` or /var/run/docker.sock). */
  docker?: Docker;
  logger?: Logger;
}

/** Counters, mostly for tests and metrics. */
export interface SandboxStats {
  warmRuns: number;
  coldRuns: number;
  poolReady: number;
  activeRuns: number;
}

/** The options a parsed {@link SandboxEnv} describes (agentId, docker and logger come from elsewhere). */
export function sandboxOptionsFromEnv(env: SandboxEnv): DockerSandboxOptions {
  return {
    image: env.ATOMIC_SANDBOX_IMAGE,
    runtime: env.ATOMIC_SANDBOX_RUNTIME,
    warm: env.ATOMIC_SANDBOX_WARM,
    outputLimitBytes: env.ATOMIC_SANDBOX_OUTPUT_LIMIT_BYTES,
    limits: limitPolicyFromEnv(env),
  };
}

const MIB = 1024 * 1024;

/**
 * The Docker sandbox (DESIGN §8): runs one program per fresh, locked-down container and reports
 * `{exit_code, signal, stdout, stderr, truncated, timed_out, oom_killed, duration_ms}`. Start it
 * with {@link DockerSandbox.create} (which sweeps leftovers of an earlier run of this host-agent
 * and starts the warm pool) and stop it with {@link DockerSandbox.close}.
 */
export class DockerSandbox {
  readonly image: string;
  readonly agentId: string;
  readonly runtime: SandboxRuntime;
  readonly limits: LimitPolicy;
  readonly #docker: Docker;
  readonly #logger: Logger;
  readonly #instanceId = randomUUID();
  readonly #outputLimitBytes: number;
  readonly #outputKillBytes: number;
  readonly #pool: WarmPool | undefined;
  readonly #active = new Map<Promise<unknown>, AbortController>();
  /** Removals of finished runs' containers still in progress. */
  readonly #removals = new Set<Promise<void>>();
  /** A uid per living container, given back when it is removed. */
  readonly #uids = new UidSlots();
  readonly #uidOf = new WeakMap<LaunchedContainer, number>();
  readonly #cleanupDelayMs: number;
  /** Aborted by close(): removals and refills waiting for {@link DockerSandbox.#afterAnswer} go at once. */
  readonly #closing = new AbortController();
  #engineCpus: Promise<number> | undefined;
  #warmRuns = 0;
  #coldRuns = 0;
  #closed = false;

  /** Sets up without touching the engine; call {@link DockerSandbox.start} (or use `create`). */
  constructor(options: DockerSandboxOptions = {}) {
    this.image = options.image ?? "atomic-sandbox:latest";
    this.agentId = options.agentId ?? "host-agent";
    this.runtime = options.runtime ?? "runc";
    this.limits = options.limits ?? limitPolicyFromEnv(SandboxEnv.parse({}));
    this.#docker = options.docker ?? new Docker();
    this.#logger = (options.logger ?? createLogger("silent")).child({ component: "sandbox" });
    this.#outputLimitBytes = options.outputLimitBytes ?? 65_536;
    this.#outputKillBytes = options.outputKillBytes ?? Math.max(8 * MIB, 4 * this.#outputLimitBytes);
    this.#cleanupDelayMs = options.cleanupDelayMs ?? 100;
    const warm = options.warm ?? 2;
    this.#pool =
      warm > 0
        ? new WarmPool({
            size: warm,
            launch: () => this.#launch(this.limits.defaults),
            remove: (launched) => this.#remove(launched),
            logger: this.#logger,
          })
        : undefined;
  }

  /** A started sandbox: leftovers swept, warm pool filling in the background. */
  static async create(options: DockerSandboxOptions = {}): Promise<DockerSandbox> {
    const sandbox = new DockerSandbox(options);
    await sandbox.start();
    return sandbox;
  }

  /**
   * Sweeps leftovers of this host-agent (a crash leaves its containers behind) and starts the
   * warm pool. Never throws: with the engine down the host-agent still starts, reports the
   * sandbox unavailable, and the pool keeps retrying.
   */
  async start(): Promise<{ swept: number }> {
    let swept = 0;
    try {
      swept = await this.sweep();
      if (swept > 0) this.#logger.info("sandbox removed leftover containers", { count: swept });
    } catch (error) {
      this.#logger.warn("sandbox sweep failed at start-up", { error });
    }
    this.#pool?.start();
    return { swept };
  }

  /**
   * Runs one program. Throws {@link SandboxError}: `invalid_request` for a request that does not
   * parse, an unknown language or a limit above the maximum (`SandboxLimitError`),
   * `sandbox_unavailable` when the engine or image is missing, `cancelled` when `signal` aborts
   * or the sandbox closes, `sandbox_error` when the engine fails mid-run.
   */
  async execute(request: ExecuteRequest, opts: { signal?: AbortSignal } = {}): Promise<ExecuteResult> {
    if (this.#closed) throw new SandboxError("sandbox_unavailable", "the sandbox is closed");
    const parsed = parseExecuteRequest(request);
    const limits = resolveLimits(parsed.limits, this.limits);
    return this.#tracked(limits, planProgram(parsed), parsed.stdin, opts.signal);
  }

  /**
   * Type-checks and tests a program (a `sandbox.verify` job) with the image's verification driver
   * (verification.ts). A run that times out, runs out of memory or ends without a report is a
   * report that does not pass and says why; errors are thrown as by {@link DockerSandbox.execute}.
   */
  async verify(payload: VerifyPayload, opts: { signal?: AbortSignal } = {}): Promise<VerifyReport> {
    if (this.#closed) throw new SandboxError("sandbox_unavailable", "the sandbox is closed");
    const parsed = parseVerifyPayload(payload);
    const limits = verificationLimits(parsed.limits, this.limits);
    const program = planVerification(parsed, {
      timeoutSeconds: limits.timeout_seconds,
      outputLimitBytes: this.#outputLimitBytes,
    });
    const result = await this.#tracked(limits, program, undefined, opts.signal);
    return readVerifyReport(result, limits);
  }

  /** One run, cancelled by `signal` or by close(). */
  async #tracked(
    limits: ResourceLimits,
    program: Program,
    stdin: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ExecuteResult> {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (signal?.aborted === true) throw new SandboxError("cancelled", "the run was cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    const running = this.#run(limits, program, stdin, abort.signal);
    this.#active.set(running, abort);
    try {
      return await running;
    } finally {
      this.#active.delete(running);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async #run(
    limits: ResourceLimits,
    program: Program,
    stdin: string | undefined,
    signal: AbortSignal,
  ): Promise<ExecuteResult> {
    const warm =
      this.#pool !== undefined && sameContainerLimits(limits, this.limits.defaults) ? this.#pool.take() : undefined;
    const launched = warm ?? (await this.#launch(limits, signal));
    if (warm !== undefined) this.#warmRuns += 1;
    else this.#coldRuns += 1;
    try {
      return await runInContainer(launched, {
        program,
        stdin,
        timeoutMs: limits.timeout_seconds * 1000,
        outputKillBytes: this.#outputKillBytes,
        image: this.image,
        signal,
      });
    } finally {
      if (warm !== undefined) void this.#afterAnswer().then(() => this.#pool?.released());
      // Single use, whatever happened: success, timeout, engine error or cancellation. The
      // program has ended (or been killed) by now, so the result need not wait for the engine to
      // delete its container: the removal goes on after the answer, and close() waits for it.
      launched.stream.destroy();
      this.#removeLater(launched);
    }
  }

  /**
   * Resolves {@link DockerSandboxOptions.cleanupDelayMs} after a run's answer (at once when the
   * sandbox closes): when the removal of its container and the pool's refill may start.
   */
  #afterAnswer(): Promise<void> {
    if (this.#cleanupDelayMs === 0 || this.#closed) return Promise.resolve();
    const closing = this.#closing.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        closing.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, this.#cleanupDelayMs);
      closing.addEventListener("abort", done, { once: true });
    });
  }

  #removeLater(launched: LaunchedContainer): void {
    const removal: Promise<void> = this.#afterAnswer()
      .then(() => this.#remove(launched))
      .catch((error: unknown) => {
        this.#logger.error("sandbox container could not be removed (the next start-up sweep will)", {
          container: launched.id.slice(0, 12),
          error,
        });
      })
      .finally(() => this.#removals.delete(removal));
    this.#removals.add(removal);
  }

  /** Resolves once the container of every run that has ended is gone. */
  async removalsSettled(): Promise<void> {
    while (this.#removals.size > 0) await Promise.allSettled([...this.#removals]);
  }

  /** Starts a container; when every uid is held, first waits for one (until `signal` aborts). */
  async #launch(limits: ResourceLimits, signal?: AbortSignal): Promise<LaunchedContainer> {
    const engineCpus = await this.#cpus();
    if (this.#uids.full) {
      this.#logger.warn("sandbox uids all in use: the container waits for one to be given back", {
        uids: `${SANDBOX_UID}-${SANDBOX_UID + SANDBOX_UID_COUNT - 1}`,
      });
    }
    const uid = await this.#uids.take(signal);
    const spec = containerSpec({
      image: this.image,
      limits,
      agentId: this.agentId,
      instanceId: this.#instanceId,
      engineCpus,
      uid,
      runtime: this.runtime,
    });
    let launched: LaunchedContainer;
    try {
      launched = await launchContainer(this.#docker, spec, this.#outputLimitBytes);
    } catch (error) {
      // launchContainer removed what it had created (or left it to the sweep, killed or never started).
      this.#uids.release(uid);
      throw error;
    }
    this.#uidOf.set(launched, uid);
    return launched;
  }

  /** Removes a container and then gives its uid back, whether the removal worked or not: its processes are dead. */
  async #remove(launched: LaunchedContainer): Promise<void> {
    try {
      await removeContainer(launched.container);
    } finally {
      const uid = this.#uidOf.get(launched);
      if (uid !== undefined) this.#uids.release(uid);
    }
  }

  /**
   * Checks that the engine has this sandbox's runtime registered (`docker info` lists them).
   * Throws {@link SandboxRuntimeError}, saying how to register it, when the engine answers without
   * it; an engine that does not answer is not this check's business (availability() reports it).
   */
  async checkRuntime(): Promise<void> {
    let info: unknown;
    try {
      info = await this.#docker.info();
    } catch {
      return;
    }
    const runtimes: unknown = Reflect.get(Object(info), "Runtimes");
    const registered = Object.keys(Object(runtimes));
    // An engine that lists no runtimes at all (not Docker's API) cannot be checked for its default.
    if (registered.length === 0 && this.runtime === "runc") return;
    if (!registered.includes(this.runtime)) {
      throw new SandboxRuntimeError(this.runtime, registered, engineAddress(this.#docker));
    }
    if (this.runtime === "runsc") {
      const args: unknown = Reflect.get(Object(Reflect.get(Object(runtimes), "runsc")), "runtimeArgs");
      const given = Array.isArray(args) ? args.map(String) : [];
      const missing = RUNSC_REQUIRED_ARGS.filter((arg) => !given.includes(arg));
      if (missing.length > 0) {
        throw new SandboxRuntimeError(this.runtime, registered, engineAddress(this.#docker), missing);
      }
    }
  }

  // The engine's CPU count caps NanoCpus; asked once, and again after a failure.
  #cpus(): Promise<number> {
    this.#engineCpus ??= this.#docker.info().then(
      (info: unknown) => {
        const cpus: unknown = Reflect.get(Object(info), "NCPU");
        return typeof cpus === "number" && cpus > 0 ? cpus : 1;
      },
      (error: unknown) => {
        this.#engineCpus = undefined;
        throw engineError(error, "info", this.image);
      },
    );
    return this.#engineCpus;
  }

  /** Whether runs can work now: the engine answers and the image is present. */
  async availability(): Promise<SandboxAvailability> {
    try {
      await this.#docker.ping();
    } catch (error) {
      const detail = `Docker engine not reachable at ${engineAddress(this.#docker)}: ${engineMessage(error)}`;
      return { status: "unavailable", detail };
    }
    try {
      await this.#docker.getImage(this.image).inspect();
    } catch (error) {
      if (isNotFound(error)) return { status: "unavailable", detail: missingImageDetail(this.image) };
      const prefix = isEngineUnreachable(error) ? "Docker engine not reachable" : "image inspect failed";
      return { status: "unavailable", detail: `${prefix}: ${engineMessage(error)}` };
    }
    try {
      await this.checkRuntime();
    } catch (error) {
      return { status: "unavailable", detail: error instanceof Error ? error.message : String(error) };
    }
    return { status: "available", runtime: this.runtime };
  }

  /**
   * Removes every container labelled as this host-agent's sandbox except this instance's own:
   * what a killed host-agent left behind. Returns how many it removed.
   */
  async sweep(): Promise<number> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.#docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_SANDBOX}=1`, `${LABEL_AGENT}=${this.agentId}`] },
      });
    } catch (error) {
      throw engineError(error, "list containers", this.image);
    }
    const leftovers = containers.filter((info) => info.Labels[LABEL_INSTANCE] !== this.#instanceId);
    const results = await Promise.allSettled(
      leftovers.map((info) => removeContainer(this.#docker.getContainer(info.Id))),
    );
    const failed = results.filter((result) => result.status === "rejected");
    if (failed.length > 0) {
      throw new SandboxError(
        "sandbox_error",
        `sweep could not remove ${failed.length} of ${leftovers.length} containers`,
        {
          retryable: true,
          cause: failed[0]?.reason,
        },
      );
    }
    return leftovers.length;
  }

  /** Resolves when the warm pool is full (at once without a pool). */
  warmPoolReady(): Promise<void> {
    return this.#pool?.whenFull() ?? Promise.resolve();
  }

  /** Runs served warm and cold so far, containers ready in the pool, runs in flight. */
  stats(): SandboxStats {
    return {
      warmRuns: this.#warmRuns,
      coldRuns: this.#coldRuns,
      poolReady: this.#pool?.readyCount ?? 0,
      activeRuns: this.#active.size,
    };
  }

  /** Cancels runs in flight (they reject with `cancelled`) and removes every container this instance holds. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    for (const abort of this.#active.values()) abort.abort();
    await Promise.allSettled([...this.#active.keys()]);
    await this.removalsSettled();
    await this.#pool?.close();
  }
}
