import { AtomicApiError, AtomicConnectionError, AtomicIntegrityError, AtomicProtocolError } from "../errors.ts";

/** The exit codes scripts can branch on (sdk/README.md lists them). `atomic run` exits with the program's own. */
export const EXIT = {
  /** Done: the pipeline completed (verified, when it was asked to verify), the call answered. */
  ok: 0,
  /** The API refused, the pipeline failed or was cancelled elsewhere, the edge could not be reached. */
  failure: 1,
  /** A usage error: an unknown flag, a missing argument, a value the API refuses (400 invalid_request). */
  usage: 2,
  /** The pipeline completed, but its verification failed or was skipped: the code is not verified. */
  notVerified: 3,
  /** No such pipeline (404 not_found), or it belongs to another key. */
  notFound: 4,
  /** Ctrl-C ended the command (the pipeline cancelled, detached from, or no longer followed). */
  interrupted: 130,
} as const;

/** Thrown by a command for arguments it cannot use: exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The exit code of an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof AtomicApiError) {
    if (error.code === "not_found") return EXIT.notFound;
    if (error.code === "invalid_request") return EXIT.usage;
  }
  return EXIT.failure;
}

/** A one-line explanation of `error` for a person, and a code a script can read. */
export function describeError(error: unknown, baseUrl: string): { code: string; message: string } {
  if (error instanceof AtomicApiError) {
    const pipeline = error.pipelineId === null ? "" : ` (pipeline ${error.pipelineId})`;
    return { code: error.code, message: `${error.message}${pipeline}` };
  }
  if (error instanceof AtomicConnectionError) return { code: "connection_lost", message: error.message };
  if (error instanceof AtomicProtocolError) {
    return { code: "protocol_error", message: `${error.message}; is ${baseUrl} an Atomic Orchestrator edge?` };
  }
  if (error instanceof AtomicIntegrityError) return { code: "integrity_error", message: error.message };
  if (error instanceof UsageError) return { code: "usage", message: error.message };
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    const reason = typeof cause?.code === "string" ? cause.code : cause?.message;
    const why = typeof reason === "string" && reason !== "" ? ` (${reason})` : "";
    return {
      code: "unreachable",
      message: `cannot reach ${baseUrl}${why}: is the edge running (npm start)? --url or ATOMIC_URL say where it is`,
    };
  }
  return { code: "error", message: error instanceof Error ? error.message : String(error) };
}
