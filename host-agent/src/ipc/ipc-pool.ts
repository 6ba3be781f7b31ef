import type { z } from "zod";
import { createLogger, type Logger } from "../log.ts";
import { ConnectionSet, type ConnectionStats } from "./connection-set.ts";
import { HealthMonitor, type HealthListener, type IpcHealth } from "./health-monitor.ts";
import type { IpcConnection } from "./ipc-connection.ts";
import { IpcError } from "./ipc-error.ts";
import {
  IPC_DEFAULT_SOCKET,
  IPC_MAX_LINE_BYTES,
  IpcGenerateContentResult,
  IpcGenerateResult,
  IpcParseResult,
  type IpcGeneratePayload,
  type IpcParsePayload,
  type IpcRepairPayload,
  type IpcTask,
} from "./protocol.ts";

export interface IpcPoolOptions {
  /** The agent's socket (ATOMIC_IPC_SOCKET); default /tmp/atomic_llm_agent.sock. */
  socketPath?: string;
  /** Most connections to open (ATOMIC_IPC_POOL_SIZE); default 4. */
  size?: number;
  /** Per-request deadline unless a call gives its own; default 300,000 ms. */
  requestTimeoutMs?: number;
  /** Time between health checks once start() ran; 0 turns them off. Default 10,000 ms. */
  healthIntervalMs?: number;
  /** How long a HEALTH_CHECK may take before the agent counts as unhealthy; default 5,000 ms. */
  healthTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect backoff: first wait at most `reconnectBaseMs`, doubling up to `reconnectCapMs`. */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /** Line length cap in both directions; default 1 MiB, the protocol's. */
  maxLineBytes?: number;
  logger?: Logger;
}

export interface IpcCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface IpcStreamOptions extends IpcCallOptions {
  /** Each piece of text, in order, as the agent streams it. */
  onChunk: (delta: string) => void;
}

export interface IpcPoolStats extends ConnectionStats {
  /** Requests (not health checks) waiting for an answer. */
  requests: number;
}

export type { IpcHealth, HealthListener };

interface Call<R> {
  task: IpcTask;
  payload: IpcGeneratePayload | IpcParsePayload | IpcRepairPayload;
  schema: z.ZodType<R>;
  options: IpcCallOptions;
  onChunk?: (delta: string) => void;
  /** A last check of a valid result, given how many UTF-16 units were streamed. */
  verify?: (result: R, streamedChars: number) => IpcError | null;
}

/**
 * The host-agent's side of the IPC protocol: a pool of connections to one LLM agent. Requests go
 * to the least loaded connection and share it by id; each has a deadline and may be aborted
 * (both send CANCEL so the agent stops working on it). Health is checked periodically; lost
 * connections are reopened with backoff. Every failure is an `IpcError` with a code and whether
 * a retry may help.
 */
export class IpcPool {
  readonly socketPath: string;
  readonly #connections: ConnectionSet;
  readonly #health: HealthMonitor;
  readonly #log: Logger;
  readonly #requestTimeoutMs: number;
  readonly #healthTimeoutMs: number;
  #requests = 0;
  #closed = false;

  constructor(options: IpcPoolOptions = {}) {
    this.socketPath = options.socketPath ?? IPC_DEFAULT_SOCKET;
    this.#log = (options.logger ?? createLogger("silent")).child({ component: "ipc" });
    this.#requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? 300_000);
    this.#healthTimeoutMs = positive("healthTimeoutMs", options.healthTimeoutMs ?? 5_000);
    const size = positive("size", options.size ?? 4);
    this.#connections = new ConnectionSet({
      socketPath: this.socketPath,
      size,
      maxLineBytes: positive("maxLineBytes", options.maxLineBytes ?? IPC_MAX_LINE_BYTES),
      connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs ?? 2_000),
      reconnectBaseMs: positive("reconnectBaseMs", options.reconnectBaseMs ?? 100),
      reconnectCapMs: positive("reconnectCapMs", options.reconnectCapMs ?? 5_000),
      logger: this.#log,
      // A lost connection is the first sign of a dead or restarting agent: look now, not at the next tick.
      onLost: () => void this.#health.checkNow(),
    });
    this.#health = new HealthMonitor({
      intervalMs: options.healthIntervalMs ?? 10_000,
      check: () => this.#probe(),
      logger: this.#log,
    });
  }

  /** Starts the periodic health checks (the first one at once). Requests work without it. */
  start(): void {
    if (!this.#closed) this.#health.start();
  }

  /** One request, answered in one piece; `generate` and `repair` results then carry the text in `content`. */
  request(task: "generate", payload: IpcGeneratePayload, options?: IpcCallOptions): Promise<IpcGenerateContentResult>;
  request(task: "repair", payload: IpcRepairPayload, options?: IpcCallOptions): Promise<IpcGenerateContentResult>;
  request(task: "parse", payload: IpcParsePayload, options?: IpcCallOptions): Promise<IpcParseResult>;
  request(
    task: IpcTask,
    payload: IpcGeneratePayload | IpcParsePayload | IpcRepairPayload,
    options: IpcCallOptions = {},
  ): Promise<IpcGenerateContentResult | IpcParseResult> {
    if (task === "parse") return this.#call({ task, payload, schema: IpcParseResult, options });
    return this.#call({ task, payload, schema: IpcGenerateContentResult, options });
  }

  /**
   * One streamed request: `onChunk` gets each piece of text; the promise resolves with the final
   * result once the agent says it is done (for `generate` and `repair`, checked to match what was streamed).
   */
  stream(task: "generate", payload: IpcGeneratePayload, options: IpcStreamOptions): Promise<IpcGenerateResult>;
  stream(task: "repair", payload: IpcRepairPayload, options: IpcStreamOptions): Promise<IpcGenerateResult>;
  stream(task: "parse", payload: IpcParsePayload, options: IpcStreamOptions): Promise<IpcParseResult>;
  stream(
    task: IpcTask,
    payload: IpcGeneratePayload | IpcParsePayload | IpcRepairPayload,
    options: IpcStreamOptions,
  ): Promise<IpcGenerateResult | IpcParseResult> {
    const { onChunk } = options;
    if (task === "parse") return this.#call({ task, payload, schema: IpcParseResult, options, onChunk });
    return this.#call({
      task,
      payload,
      schema: IpcGenerateResult,
      options,
      onChunk,
      verify: (result, streamed) =>
        result.chars === streamed
          ? null
          : new IpcError(
              "llm_error",
              `the LLM agent streamed ${streamed} characters but reported ${result.chars}`,
              true,
            ),
    });
  }

  /** The latest health seen; `unavailable` until the first check. */
  get health(): IpcHealth {
    return this.#health.current;
  }

  /** Checks health now (sharing a check already running) and returns the answer. */
  checkHealth(): Promise<IpcHealth> {
    if (this.#closed) return Promise.resolve({ status: "unavailable", detail: "the IPC pool is closed" });
    return this.#health.checkNow();
  }

  /** Calls `listener(health, previous)` whenever the health changes; returns the unsubscribe function. */
  onHealthChange(listener: HealthListener): () => void {
    return this.#health.onChange(listener);
  }

  stats(): IpcPoolStats {
    return { ...this.#connections.stats(), requests: this.#requests };
  }

  /** Stops health checks and reconnects, closes every connection; requests in flight fail (retryable). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#health.stop();
    this.#connections.close(new IpcError("llm_unavailable", "the IPC pool was closed", true));
  }

  #call<R>(call: Call<R>): Promise<R> {
    if (this.#closed) return Promise.reject(new IpcError("llm_unavailable", "the IPC pool is closed", true));
    const { signal } = call.options;
    if (signal?.aborted) return Promise.reject(new IpcError("cancelled", "the request was cancelled", false));
    const timeoutMs = positive("timeoutMs", call.options.timeoutMs ?? this.#requestTimeoutMs);
    const deadline = Date.now() + timeoutMs;
    this.#requests += 1;

    return new Promise<R>((resolve, reject) => {
      let settled = false;
      let connection: IpcConnection | null = null;
      let id: string | null = null;
      let streamed = 0;

      const finish = (outcome: { ok: true; value: R } | { ok: false; error: IpcError }) => {
        if (settled) return;
        settled = true;
        this.#requests -= 1;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      };
      // Ends the call here and tells the agent to stop working on it.
      const abandon = (error: IpcError) => {
        if (settled) return;
        if (connection && id) connection.cancel(id);
        finish({ ok: false, error });
      };
      const timer = setTimeout(
        () => abandon(new IpcError("timeout", `the LLM agent did not answer within ${timeoutMs} ms`, true)),
        timeoutMs,
      );
      const onAbort = () => abandon(new IpcError("cancelled", "the request was cancelled", false));
      signal?.addEventListener("abort", onAbort, { once: true });

      const onChunk = call.onChunk;
      this.#connections.acquire().then(
        (acquired) => {
          if (settled) return;
          connection = acquired;
          id = acquired.nextId();
          acquired.start({
            kind: "request",
            message: {
              type: "REQUEST",
              id,
              task: call.task,
              payload: call.payload,
              stream: onChunk !== undefined,
              timeout_ms: Math.max(1, deadline - Date.now()),
            },
            onChunk: onChunk
              ? (delta) => {
                  if (settled) return;
                  streamed += delta.length;
                  try {
                    onChunk(delta);
                  } catch (error) {
                    abandon(new IpcError("internal", `onChunk threw: ${String(error)}`, false));
                  }
                }
              : undefined,
            settle: (outcome) => {
              if (!outcome.ok) return finish(outcome);
              const parsed = call.schema.safeParse(outcome.message.result);
              if (!parsed.success) {
                const issue = parsed.error.issues[0];
                const where = issue ? `${issue.path.join(".") || "result"}: ${issue.message}` : "invalid";
                return finish({
                  ok: false,
                  error: new IpcError(
                    "internal",
                    `the LLM agent answered an invalid ${call.task} result (${where})`,
                    false,
                  ),
                });
              }
              const problem = call.verify?.(parsed.data, streamed) ?? null;
              finish(problem ? { ok: false, error: problem } : { ok: true, value: parsed.data });
            },
          });
        },
        (error: unknown) => finish({ ok: false, error: asIpcError(error) }),
      );
    });
  }

  async #probe(): Promise<IpcHealth> {
    let connection: IpcConnection;
    try {
      connection = await this.#connections.acquire();
    } catch (error) {
      return { status: "unavailable", detail: asIpcError(error).message };
    }
    const timeoutMs = this.#healthTimeoutMs;
    return new Promise<IpcHealth>((resolve) => {
      const id = connection.nextId("h");
      const timer = setTimeout(() => {
        connection.forget(id);
        resolve({ status: "unhealthy", detail: `the LLM agent did not answer a health check within ${timeoutMs} ms` });
      }, timeoutMs);
      connection.start({
        kind: "health",
        message: { type: "HEALTH_CHECK", id },
        settle: (outcome) => {
          clearTimeout(timer);
          if (!outcome.ok) {
            const status = outcome.error.code === "llm_unavailable" ? "unavailable" : "unhealthy";
            resolve({ status, detail: outcome.error.message });
            return;
          }
          const { status, provider, model, detail } = outcome.message;
          resolve(detail === undefined ? { status, provider, model } : { status, provider, model, detail });
        },
      });
    });
  }
}

function asIpcError(error: unknown): IpcError {
  return error instanceof IpcError ? error : new IpcError("internal", `IPC failure: ${String(error)}`, false);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`IpcPool: ${name} must be a positive number, got ${value}`);
  return value;
}
