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

/** How an operator registers gVisor with a Docker engine (README, "The sandbox"). */
const RUNSC_REGISTRATION =
  'install gVisor (Debian: apt-get install runsc), add it to /etc/docker/daemon.json as {"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=none","--oci-seccomp"]}}} (merged with what is there), then reload the engine (systemctl reload docker, or kill -HUP the dockerd process)';

/**
 * What runsc must be given by its registration: `--network=none` (without it a container with
 * `NetworkMode: none` fails to start) and `--oci-seccomp` (without it gVisor ignores the sandbox's
 * seccomp profile, and io_uring, for one, works inside).
 */
export const RUNSC_REQUIRED_ARGS = ["--network=none", "--oci-seccomp"] as const;

/**
 * `ATOMIC_SANDBOX_RUNTIME` names a runtime the engine does not have: a configuration error that
 * stops the host-agent at start-up (exit 2) rather than failing every run.
 */
export class SandboxRuntimeError extends SandboxError {
  override name = "SandboxRuntimeError";

  constructor(runtime: string, registered: readonly string[], engine: string, missingArgs: readonly string[] = []) {
    const has = registered.length > 0 ? registered.join(", ") : "none";
    const how = runtime === "runsc" ? `: ${RUNSC_REGISTRATION}` : "";
    const problem =
      missingArgs.length > 0
        ? `the Docker engine at ${engine} registers "${runtime}" without ${missingArgs.join(" and ")} in its runtimeArgs`
        : `the Docker engine at ${engine} has no runtime "${runtime}" registered (it has: ${has})`;
    super("sandbox_unavailable", `ATOMIC_SANDBOX_RUNTIME=${runtime}, but ${problem}${how}`);
  }
}
