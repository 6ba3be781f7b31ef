import { ExecuteRequest } from "../../../shared/src/protocol/sandbox.ts";
import { SandboxError } from "./errors.ts";
import { LANGUAGES } from "./program.ts";

/**
 * Parses an execute request with the wire schema, throwing `invalid_request` with every issue and
 * where it is. The request may come from anywhere (a frame off the agent link, a test), so the
 * sandbox parses it even when the type says it is valid. An unknown language gets its own
 * message, listing the known ones, because it is the mistake a caller most likely makes.
 */
export function parseExecuteRequest(request: unknown): ExecuteRequest {
  const language: unknown =
    typeof request === "object" && request !== null ? Reflect.get(request, "language") : undefined;
  if (typeof language !== "string" || !Object.hasOwn(LANGUAGES, language)) {
    const known = Object.keys(LANGUAGES).join(", ");
    throw new SandboxError("invalid_request", `unknown language ${JSON.stringify(language)} (known: ${known})`);
  }
  const parsed = ExecuteRequest.safeParse(request);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "request"}: ${issue.message}`);
    throw new SandboxError("invalid_request", `invalid execute request: ${issues.join("; ")}`);
  }
  return parsed.data;
}
