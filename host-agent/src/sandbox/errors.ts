import type { ErrorCode } from "../../../shared/src/errors.ts";
import type { ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";

/** The error codes a sandbox failure maps to (a subset of the product's closed set). */
export type SandboxErrorCode = Extract<
  ErrorCode,
  "invalid_request" | "sandbox_error" | "sandbox_unavailable" | "cancelled"
>;

/**
 * What went wrong with a sandbox run, as opposed to what the program did (a program that crashes,
 * times out or runs out of memory is a normal {@link ExecuteResult}, not an error).
 * `retryable` says whether the same request may succeed later (the engine was down, say).
 */
export class SandboxError extends Error {
  override name = "SandboxError";
  readonly code: SandboxErrorCode;
  readonly retryable: boolean;

  constructor(code: SandboxErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** A request asked for more of a resource than this host allows. The edge answers 400. */
export class SandboxLimitError extends SandboxError {
  override name = "SandboxLimitError";
  readonly limit: keyof ResourceLimits;
  readonly requested: number;
  readonly maximum: number;

  constructor(limit: keyof ResourceLimits, requested: number, maximum: number) {
    super("invalid_request", `limits.${limit} = ${requested} is above this host's maximum of ${maximum}`);
    this.limit = limit;
    this.requested = requested;
    this.maximum = maximum;
  }
}
