import type { AgentToEdge as AgentFrame, ErrorCode } from "../../../shared/src/index.ts";
import { AgentToEdge, LIMITS } from "../../../shared/src/index.ts";
import { z } from "zod";
import { frameOver } from "../sockets/frame-size.ts";

/** What one frame from a host-agent is: a frame to act on, one of a type this edge does not know, or an error to answer. */
export type AgentFrameRead =
  | { type: "frame"; frame: AgentFrame }
  | { type: "unknown"; frameType: string }
  | { type: "error"; code: ErrorCode; message: string };

/** Only the frame's type: an unknown type is ignored (a newer agent), not refused. */
const FrameType = z.object({ type: z.string() });
const KNOWN_TYPES: ReadonlySet<string> = new Set(AgentToEdge.options.map((option) => option.shape.type.value));
const decoder = new TextDecoder();

/** Reads one agent-link frame: its size (in bytes), its JSON, and its shape. */
export function readAgentFrame(message: string | ArrayBuffer): AgentFrameRead {
  if (frameOver(message, LIMITS.agentFrameMaxBytes)) {
    return {
      type: "error",
      code: "payload_too_large",
      message: `frames are limited to ${LIMITS.agentFrameMaxBytes} bytes`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(typeof message === "string" ? message : decoder.decode(message));
  } catch {
    return { type: "error", code: "invalid_json", message: "frame is not valid JSON" };
  }
  const type = FrameType.safeParse(body);
  if (type.success && !KNOWN_TYPES.has(type.data.type)) return { type: "unknown", frameType: type.data.type };
  const frame = AgentToEdge.safeParse(body);
  if (!frame.success) {
    const issue = frame.error.issues[0];
    return {
      type: "error",
      code: "invalid_request",
      message: `invalid frame: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "unreadable"}`,
    };
  }
  return { type: "frame", frame: frame.data };
}
