import type { ErrorCode } from "../../shared/src/errors.ts";

/**
 * An error answer of the API (`{"success": false, "error": {code, message}, "request_id"}`), or an
 * `error` event that ended a pipeline. Branch on `code` (the closed set of the shared `ErrorCode`),
 * never on `message`.
 */
export class AtomicApiError extends Error {
  override readonly name = "AtomicApiError";
  /** The HTTP status (for a pipeline's `error` event: the status its code maps to). */
  readonly status: number;
  readonly code: ErrorCode;
  /** The `request_id` of the answer (also in its `X-Request-Id` header); null when none came. */
  readonly requestId: string | null;
  /** The pipeline the error is about, when the API named one. */
  readonly pipelineId: string | null;
  /** What `Retry-After` asked for, in milliseconds, when the answer had one. */
  readonly retryAfterMs: number | null;

  constructor(init: {
    status: number;
    code: ErrorCode;
    message: string;
    requestId?: string | null;
    pipelineId?: string | null;
    retryAfterMs?: number | null;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.pipelineId = init.pipelineId ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }
}

/** An answer or frame that does not match the API's schema (a proxy's HTML page, a newer edge's breaking change). */
export class AtomicProtocolError extends Error {
  override readonly name = "AtomicProtocolError";
  /** The HTTP status of the answer; null for a WebSocket frame. */
  readonly status: number | null;
  /** The start of what arrived, for the log. */
  readonly received: string;

  constructor(message: string, status: number | null, received: string) {
    super(message);
    this.status = status;
    this.received = received.slice(0, 500);
  }
}

/** A WebSocket stream that could not be (re)connected within its attempts, or lost before its pipeline was known. */
export class AtomicConnectionError extends Error {
  override readonly name = "AtomicConnectionError";
  /** The pipeline followed, when known: follow it again with `pipelines.events(id, {after: lastSeq})`. */
  readonly pipelineId: string | null;
  /** The last `seq` the stream yielded (0: none). */
  readonly lastSeq: number;

  constructor(message: string, pipelineId: string | null, lastSeq: number) {
    super(message);
    this.pipelineId = pipelineId;
    this.lastSeq = lastSeq;
  }
}

/** A downloaded artifact whose size or sha256 differs from the manifest's. */
export class AtomicIntegrityError extends Error {
  override readonly name = "AtomicIntegrityError";
  readonly path: string;

  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}
