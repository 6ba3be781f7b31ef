import type Docker from "dockerode";
import { SandboxError } from "./errors.ts";

// Socket errors that mean "no engine at that address" rather than "the engine refused".
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

function field(error: unknown, name: string): unknown {
  return typeof error === "object" && error !== null ? (Reflect.get(error, name) as unknown) : undefined;
}

/** Whether `error` says the Docker engine could not be reached at all. */
export function isEngineUnreachable(error: unknown): boolean {
  const code = field(error, "code");
  return typeof code === "string" && UNREACHABLE_CODES.has(code);
}

/** Whether `error` is the engine's 404 (no such container or image). */
export function isNotFound(error: unknown): boolean {
  return field(error, "statusCode") === 404;
}

/** The engine's own message (docker-modem puts the JSON body's `message` in `json`). */
export function engineMessage(error: unknown): string {
  const json = field(error, "json");
  const message = field(json, "message");
  if (typeof message === "string") return message;
  return error instanceof Error ? error.message : String(error);
}

/** How to say that the image is missing, with the command that makes it. */
export function missingImageDetail(image: string): string {
  return `image ${image} not found: run npm run sandbox:image`;
}

/**
 * A typed error for a failed engine call: `sandbox_unavailable` (retryable) when the engine is
 * unreachable or the image is missing, `sandbox_error` otherwise.
 */
export function engineError(error: unknown, action: string, image: string): SandboxError {
  if (error instanceof SandboxError) return error;
  if (isEngineUnreachable(error)) {
    return new SandboxError("sandbox_unavailable", `Docker engine not reachable (${action}): ${engineMessage(error)}`, {
      retryable: true,
      cause: error,
    });
  }
  const message = engineMessage(error);
  if (isNotFound(error) && /no such image/i.test(message)) {
    return new SandboxError("sandbox_unavailable", missingImageDetail(image), { retryable: true, cause: error });
  }
  return new SandboxError("sandbox_error", `Docker ${action} failed: ${message}`, { retryable: true, cause: error });
}

/** Where `docker` talks to the engine, for messages: `unix:///var/run/docker.sock`, `tcp://host:2375`. */
export function engineAddress(docker: Docker): string {
  // docker-modem resolves DOCKER_HOST and its defaults into these fields; its types do not declare them.
  const socketPath = field(docker.modem, "socketPath");
  if (typeof socketPath === "string" && socketPath !== "") return `unix://${socketPath}`;
  const host = field(docker.modem, "host");
  const port = field(docker.modem, "port");
  if (typeof host === "string" && host !== "") {
    const protocol = field(docker.modem, "protocol");
    return `${typeof protocol === "string" ? protocol : "http"}://${host}${port === undefined ? "" : `:${String(port)}`}`;
  }
  return process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
}
