import { z } from "zod";
import { ErrorCode, type JobError } from "../../../shared/src/index.ts";

/** A job that failed in a way the edge should know about: a code, and whether a retry may help. */
export class JobFailure extends Error {
  override name = "JobFailure";
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

// Errors of the IPC, sandbox and export layers carry the same two facts; read them from any.
const Coded = z.object({ code: ErrorCode, message: z.string(), retryable: z.boolean() });

/** The wire form of whatever a job handler threw. */
export function toJobError(error: unknown): JobError {
  if (error instanceof JobFailure) return { code: error.code, message: error.message, retryable: error.retryable };
  const coded = Coded.safeParse(error);
  if (coded.success) return coded.data;
  const message = error instanceof Error ? error.message : String(error);
  return { code: "internal", message: `host-agent error: ${message}`, retryable: false };
}
