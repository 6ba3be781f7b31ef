import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { AtomicApiError, AtomicConnectionError, AtomicIntegrityError, AtomicProtocolError } from "../errors.ts";

/** What a coding agent can do about each refusal of the API, after its own message. */
const HINTS: Partial<Record<AtomicApiError["code"], string>> = {
  not_found: "no such pipeline (or it belongs to another API key); list_pipelines shows the ones you can see",
  unauthorized: "the edge needs an API key: set ATOMIC_API_KEY in this MCP server's environment",
  forbidden: "this API key may not do that",
  no_agent: "no host-agent is connected to run it; start one (npm run agent) and call again",
  sandbox_unavailable: "no host-agent with Docker is connected to run the code",
  conflict: "the pipeline already ended",
  queue_full: "the edge's queue is full; call again later",
  rate_limited: "too many requests for this API key; call again later",
  invalid_request: "fix the arguments and call again",
};

/** One line naming the problem, for the tool result and the log. */
export function describeError(error: unknown): string {
  if (error instanceof AtomicApiError) {
    const hint = HINTS[error.code];
    const pipeline = error.pipelineId === null ? "" : ` (pipeline ${error.pipelineId})`;
    return `${error.code} (HTTP ${error.status})${pipeline}: ${error.message}${hint === undefined ? "" : `. ${hint}`}`;
  }
  if (error instanceof AtomicConnectionError) {
    const resume =
      error.pipelineId === null ? "" : `; the pipeline ${error.pipelineId} may still run: get_pipeline shows it`;
    return `connection lost: ${error.message}${resume}`;
  }
  if (error instanceof AtomicProtocolError) return `the edge answered something unexpected: ${error.message}`;
  if (error instanceof AtomicIntegrityError) return `artifact ${error.path}: ${error.message}`;
  if (error instanceof Error && error.name === "AbortError") return "cancelled by the client";
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `cannot reach the Atomic Orchestrator edge${cause} (is ATOMIC_URL right, and the edge running?)`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A tool result with `isError: true`: the agent reads why; the server keeps serving. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** Where the server's own lines go: stderr, never stdout (that is the protocol). */
export type Log = (line: string) => void;

/** Runs a tool's body; any error becomes a tool error naming the problem (and a line in the log). */
export async function guard(tool: string, log: Log, run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    const message = describeError(error);
    log(`${tool}: ${message}`);
    return toolError(message);
  }
}
