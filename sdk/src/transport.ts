import { z } from "zod";
import { ErrorResponse, type ErrorCode } from "../../shared/src/errors.ts";
import { AtomicApiError, AtomicProtocolError } from "./errors.ts";
import { abortable, sleep } from "./timers.ts";

/** The `fetch` the client calls: the global one by default, or any with the same shape. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Which refusals of a call are safe to send again: nothing was done when the API answered them. */
export type RetryRule = (status: number, code: ErrorCode | null) => boolean;

/** GETs: every 429 and 503, and network failures. */
export const RETRY_IDEMPOTENT: RetryRule = (status) => status === 429 || status === 503;

/**
 * 429 `rate_limited` is answered by the auth middleware before any route runs, so any call
 * refused with it may be sent again.
 */
export const RETRY_RATE_LIMITED: RetryRule = (status, code) => status === 429 && code === "rate_limited";

export interface TransportOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  fetch: FetchLike;
  retries: number;
  timeoutMs: number;
  maxRetryDelayMs: number;
}

export interface CallOptions {
  method?: "GET" | "POST";
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Which error answers to send again; network failures are retried only with `idempotent`. */
  retry: RetryRule;
  idempotent: boolean;
  /** False for a call that waits as long as its work runs (a synchronous generate). */
  timeout?: boolean;
}

/** The error shape, with the `pipeline_id` a failed synchronous generate adds. */
const ErrorWithPipeline = ErrorResponse.extend({ pipeline_id: z.string().optional() });

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Exponential backoff with full jitter: about 0.5 s, 1 s, 2 s … capped at `max`. */
export function backoffMs(attempt: number, max: number): number {
  const ceiling = Math.min(max, 500 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** HTTP calls to the edge: the key, a timeout, bounded retries that honour `Retry-After`, typed errors. */
export class Transport {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  get baseUrl(): string {
    return this.#options.baseUrl;
  }

  get apiKey(): string | undefined {
    return this.#options.apiKey;
  }

  url(path: string, query?: CallOptions["query"]): string {
    const url = new URL(path, this.#options.baseUrl);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  /** Sends the call (again while the rules allow) and answers the first 2xx response. */
  async call(path: string, options: CallOptions): Promise<Response> {
    const { retries, maxRetryDelayMs } = this.#options;
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      let response: Response;
      try {
        response = await this.#send(path, options);
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (!options.idempotent || attempt >= retries) throw error;
        await sleep(backoffMs(attempt, maxRetryDelayMs), options.signal);
        continue;
      }
      if (response.ok) return response;
      const error = await toApiError(response);
      const wait = error instanceof AtomicApiError ? error.retryAfterMs : null;
      const code = error instanceof AtomicApiError ? error.code : null;
      const allowed =
        options.retry(response.status, code) ||
        (error instanceof AtomicProtocolError && options.idempotent && response.status >= 502);
      if (!allowed || attempt >= retries || (wait !== null && wait > maxRetryDelayMs)) throw error;
      await sleep(wait ?? backoffMs(attempt, maxRetryDelayMs), options.signal);
    }
  }

  /** `call`, then the body parsed with `schema` (never cast). */
  async json<S extends z.ZodType>(path: string, schema: S, options: CallOptions): Promise<z.output<S>> {
    const response = await this.call(path, options);
    return parseBody(response, schema);
  }

  async #send(path: string, options: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (this.#options.apiKey) headers["Authorization"] = `Bearer ${this.#options.apiKey}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeout !== false && this.#options.timeoutMs > 0)
      signals.push(AbortSignal.timeout(this.#options.timeoutMs));
    const init: RequestInit = { method: options.method ?? "GET", headers };
    if (body !== undefined) init.body = body;
    if (signals.length > 0) init.signal = AbortSignal.any(signals);
    return abortable(this.#options.fetch(this.url(path, options.query), init), options.signal);
  }
}

/** Parses a 2xx body against `schema`; a body that does not match is an AtomicProtocolError. */
export async function parseBody<S extends z.ZodType>(response: Response, schema: S): Promise<z.output<S>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AtomicProtocolError(`${response.status} answer is not JSON`, response.status, text);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new AtomicProtocolError(
      `${response.status} answer does not match the API's schema (${where})`,
      response.status,
      text,
    );
  }
  return parsed.data;
}

/** An error answer as an AtomicApiError, or an AtomicProtocolError when it is not the API's error shape. */
async function toApiError(response: Response): Promise<AtomicApiError | AtomicProtocolError> {
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: a proxy's page, or a connection cut mid-body; reported below with its start.
  }
  const parsed = ErrorWithPipeline.safeParse(body);
  if (!parsed.success) {
    return new AtomicProtocolError(`${response.status} answer is not the API's error shape`, response.status, text);
  }
  return new AtomicApiError({
    status: response.status,
    code: parsed.data.error.code,
    message: parsed.data.error.message,
    requestId: parsed.data.request_id,
    pipelineId: parsed.data.pipeline_id ?? null,
    retryAfterMs: retryAfterMs(response.headers.get("Retry-After")),
  });
}
