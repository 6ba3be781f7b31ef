import { z } from "zod";
import { ErrorCode, JobError } from "../../../shared/src/index.ts";

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

// The edge refuses a job error whose message is longer (JobError), and a result it refuses never arrives.
const MESSAGE_MAX_CHARS = JobError.shape.message.maxLength ?? 4096;

function bounded(message: string): string {
  return message.length <= MESSAGE_MAX_CHARS ? message : `${message.slice(0, MESSAGE_MAX_CHARS - 1)}…`;
}

/** The wire form of whatever a job handler threw, its message cut to what the edge takes. */
export function toJobError(error: unknown): JobError {
  if (error instanceof JobFailure) {
    return { code: error.code, message: bounded(error.message), retryable: error.retryable };
  }
  const coded = Coded.safeParse(error);
  if (coded.success) return { ...coded.data, message: bounded(coded.data.message) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "internal", message: bounded(`host-agent error: ${message}`), retryable: false };
}
