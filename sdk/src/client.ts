import { z } from "zod";
import { ERROR_STATUS } from "../../shared/src/errors.ts";
import type { PipelineView } from "../../shared/src/protocol/api.ts";
import {
  GenerateAccepted,
  GenerateResponse,
  HealthResponse,
  MetricsResponse,
  type GenerateRequest,
} from "../../shared/src/protocol/api.ts";
import type { ClientEvent } from "../../shared/src/protocol/client-events.ts";
import { FINAL_STATES } from "../../shared/src/protocol/common.ts";
import type { ExecuteRequest } from "../../shared/src/protocol/sandbox.ts";
import { ExecuteResult } from "../../shared/src/protocol/sandbox.ts";
import { Artifacts } from "./artifacts.ts";
import { AtomicApiError, AtomicConnectionError } from "./errors.ts";
import { pipelineEvents, type StreamContext, type StreamOptions } from "./event-stream.ts";
import { Pipelines } from "./pipelines.ts";
import type { WebSocketConstructor } from "./socket.ts";
import {
  parseBody,
  RETRY_IDEMPOTENT,
  RETRY_RATE_LIMITED,
  Transport,
  type FetchLike,
  type RetryRule,
} from "./transport.ts";

/** The body of `POST /api/generate` (and the first frame of `/ws/stream`), as a caller writes it. */
export type GenerateInput = z.input<typeof GenerateRequest>;
/** The body of `POST /api/execute`. */
export type ExecuteInput = z.input<typeof ExecuteRequest>;

/** `POST /api/execute`'s answer: the sandbox's result and the ids of the request and the run. */
export const ExecuteAnswer = ExecuteResult.extend({ request_id: z.string(), execution_id: z.string() });
export type ExecuteAnswer = z.infer<typeof ExecuteAnswer>;

export interface AtomicClientOptions {
  /** Where the edge listens: `https://atomic.example.com` or `http://localhost:8080`. */
  baseUrl: string;
  /** A key of the edge's ATOMIC_API_KEYS: sent as `Authorization: Bearer`, and as `?access_token=` on WebSockets. */
  apiKey?: string | undefined;
  /** Default: the global `fetch`. */
  fetch?: FetchLike | undefined;
  /** Default: the global `WebSocket` (browsers, Workers, Node 22+); on Node 20 pass `ws`'s. */
  WebSocket?: WebSocketConstructor | undefined;
  /** How many times a refused or failed call that is safe to repeat is sent again. Default 3. */
  retries?: number | undefined;
  /** Deadline of each HTTP attempt, except the calls that wait for work (generate, execute). Default 30 s. */
  timeoutMs?: number | undefined;
  /** The longest wait between two attempts; a `Retry-After` longer than this is not waited for. Default 60 s. */
  maxRetryDelayMs?: number | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** Options of the calls that start work (`generate`, `execute`). */
export interface WorkOptions extends CallOptions {
  /**
   * Sent as `Idempotency-Key`, the same on every retry of this call, so a retry after a lost answer
   * (a dropped connection, a timeout) answers with the work the first attempt started instead of
   * starting it twice. Default: a new random key per call; pass your own to make retries across
   * restarts of your program safe too.
   */
  idempotencyKey?: string | undefined;
}

/** `stream`'s source: a request that starts a pipeline, or a pipeline to follow after a seq. */
export type StreamInput = GenerateInput | { pipelineId: string; after?: number | undefined };

/**
 * `POST /api/generate`'s refusals that leave nothing behind to double: a full queue and a rate
 * limit refuse before the pipeline exists; `no_agent` ends the pipeline FAILED before any host ran it.
 */
const RETRY_GENERATE: RetryRule = (status, code) =>
  (status === 429 && (code === "queue_full" || code === "rate_limited")) ||
  (status === 503 && code === "no_agent") ||
  // The first attempt with this call's key has not got far enough for its retry yet.
  (status === 409 && code === "conflict");
/** `POST /api/execute`: a rate limit, or no host with a sandbox took the run (none ran it). */
const RETRY_EXECUTE: RetryRule = (status, code) =>
  (status === 429 && code === "rate_limited") ||
  (status === 503 && code === "sandbox_unavailable") ||
  (status === 409 && code === "conflict");

/**
 * A client of the Atomic Orchestrator API: `fetch` and the standard `WebSocket` only, so it runs in
 * browsers, Workers and Node. Every answer is checked against the API's schemas.
 */
export class AtomicClient {
  readonly pipelines: Pipelines;
  readonly artifacts: Artifacts;
  readonly #transport: Transport;
  readonly #WebSocket: WebSocketConstructor | undefined;

  constructor(options: AtomicClientOptions) {
    const baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
    this.#transport = new Transport({
      baseUrl,
      apiKey: options.apiKey,
      // Workers refuse a `fetch` called off the global object, hence the arrow.
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      retries: options.retries ?? 3,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 60_000,
    });
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.pipelines = new Pipelines(this.#transport, (source, streamOptions) =>
      pipelineEvents(this.#streamContext(), source, streamOptions),
    );
    this.artifacts = new Artifacts(this.#transport);
  }

  /**
   * Runs a pipeline and answers its result. The edge waits for it; when the pipeline outlives
   * that wait, or the request says `async: true`, the edge answers 202 and this follows the
   * pipeline's events to its end instead. A pipeline that fails throws an AtomicApiError with its code.
   */
  async generate(request: GenerateInput, options: WorkOptions = {}): Promise<GenerateResponse> {
    const response = await this.#transport.call("api/generate", {
      method: "POST",
      body: request,
      headers: { "Idempotency-Key": options.idempotencyKey ?? crypto.randomUUID() },
      signal: options.signal,
      retry: RETRY_GENERATE,
      // The key makes a lost answer safe to ask again: the edge answers with the same pipeline.
      idempotent: true,
      timeout: false,
    });
    if (response.status !== 202) return parseBody(response, GenerateResponse);
    const accepted = await parseBody(response, GenerateAccepted);
    const events = this.pipelines.events(accepted.pipeline_id, { after: 0, signal: options.signal });
    for await (const event of events) {
      if (event.type === "error") {
        throw new AtomicApiError({
          status: ERROR_STATUS[event.code],
          code: event.code,
          message: event.error,
          requestId: accepted.request_id,
          pipelineId: accepted.pipeline_id,
        });
      }
      if (event.type !== "result") continue;
      const view = await this.pipelines.get(accepted.pipeline_id, options);
      return {
        success: true,
        request_id: accepted.request_id,
        pipeline_id: accepted.pipeline_id,
        state: event.state,
        content: event.content,
        artifacts: event.artifacts,
        processing_time_ms: event.processing_time_ms,
        stages: event.stages,
        requirements: view.requirements,
        verified: event.verified,
        verification: event.verification,
        export: event.export,
      };
    }
    throw new AtomicConnectionError(`pipeline ${accepted.pipeline_id} ended without a result`, accepted.pipeline_id, 0);
  }

  /**
   * The events of a new pipeline (`/ws/stream`) or of one that exists (`{pipelineId, after}`),
   * validated on arrival, each exactly once across reconnections, ending after `result` or `error`.
   */
  stream(input: StreamInput, options: StreamOptions = {}): AsyncGenerator<ClientEvent, void, undefined> {
    if ("pipelineId" in input) return this.pipelines.events(input.pipelineId, { ...options, after: input.after ?? 0 });
    return pipelineEvents(this.#streamContext(), { kind: "start", request: input }, options);
  }

  /** Runs code in the sandbox of a host-agent with Docker (`POST /api/execute`). */
  async execute(request: ExecuteInput, options: WorkOptions = {}): Promise<ExecuteAnswer> {
    return this.#transport.json("api/execute", ExecuteAnswer, {
      method: "POST",
      body: request,
      headers: { "Idempotency-Key": options.idempotencyKey ?? crypto.randomUUID() },
      signal: options.signal,
      retry: RETRY_EXECUTE,
      idempotent: true,
      timeout: false,
    });
  }

  /** `GET /health` (open even when the edge needs keys). */
  async health(options: CallOptions = {}): Promise<HealthResponse> {
    return this.#transport.json("health", HealthResponse, {
      signal: options.signal,
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
  }

  /** `GET /api/metrics`. */
  async metrics(options: CallOptions = {}): Promise<MetricsResponse> {
    return this.#transport.json("api/metrics", MetricsResponse, {
      signal: options.signal,
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
  }

  #streamContext(): StreamContext {
    const Socket = this.#WebSocket;
    if (!Socket) {
      throw new TypeError(
        "no global WebSocket here (Node 20): pass one, e.g. new AtomicClient({ WebSocket: (await import('ws')).WebSocket, ... })",
      );
    }
    return {
      WebSocket: Socket,
      wsUrl: (path, query) => {
        const withKey = this.#transport.apiKey ? { ...query, access_token: this.#transport.apiKey } : query;
        return this.#transport.url(path.replace(/^\//, ""), withKey).replace(/^http/, "ws");
      },
      progress: async (pipelineId, signal) => {
        const view: PipelineView = await this.pipelines.get(pipelineId, { signal });
        return { final: FINAL_STATES.has(view.state), lastSeq: view.last_seq };
      },
      explainRefusal: async (pipelineId, signal) => {
        if (pipelineId !== null) {
          await this.pipelines.get(pipelineId, { signal });
          return;
        }
        // A plain GET of the route meets the same auth and limits as the handshake; 426 means it would take one.
        try {
          await this.#transport.call("ws/stream", { signal, retry: RETRY_RATE_LIMITED, idempotent: true });
        } catch (error) {
          if (!(error instanceof AtomicApiError && error.code === "upgrade_required")) throw error;
        }
      },
    };
  }
}
