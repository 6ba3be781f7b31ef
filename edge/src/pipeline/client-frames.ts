import type { ErrorBody, GenerateRequest } from "../../../shared/src/index.ts";
import { ClientCommand, GenerateRequest as GenerateRequestSchema, LIMITS } from "../../../shared/src/index.ts";
import type { z } from "zod";
import { frameOver } from "../sockets/frame-size.ts";

/** What a client's WebSocket frame asks for. */
export type ClientFrame =
  | { type: "start"; request: GenerateRequest }
  | { type: "ping" }
  | { type: "cancel" }
  | { type: "error"; code: ErrorBody["code"]; message: string };

const decoder = new TextDecoder();

/**
 * Reads one frame of a client socket. A `/ws/stream` socket whose pipeline has not started yet
 * (`startable`) sends a generate request; afterwards only `ping` and `cancel` are understood.
 * Anything else is an error to answer on the socket, which stays usable.
 */
export function readClientFrame(
  message: string | ArrayBuffer,
  startable: boolean,
  pipelineId: string | null,
): ClientFrame {
  if (frameOver(message, LIMITS.clientFrameMaxBytes)) {
    return {
      type: "error",
      code: "payload_too_large",
      message: `frames are limited to ${LIMITS.clientFrameMaxBytes} bytes`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(typeof message === "string" ? message : decoder.decode(message));
  } catch {
    return { type: "error", code: "invalid_json", message: "message is not valid JSON" };
  }
  const command = ClientCommand.safeParse(body);
  if (startable && command.success && command.data.type === "ping") return { type: "ping" };
  if (startable && command.success) {
    return { type: "error", code: "conflict", message: "nothing to cancel yet: this connection has sent no prompt" };
  }
  if (startable) {
    const parsed = GenerateRequestSchema.safeParse(body);
    return parsed.success
      ? { type: "start", request: parsed.data }
      : { type: "error", code: "invalid_request", message: describeIssues(parsed.error) };
  }
  if (!command.success) {
    return {
      type: "error",
      code: "conflict",
      message: `this connection already follows pipeline ${pipelineId ?? "(none)"}; send {"type":"cancel"} or open a new connection for another prompt`,
    };
  }
  return { type: command.data.type };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
