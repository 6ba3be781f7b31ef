import type { AgentToEdge as AgentFrame, ErrorCode } from "../../../shared/src/index.ts";
import { AgentToEdge, JobResult, LIMITS } from "../../../shared/src/index.ts";
import { z } from "zod";
import type { JobRef } from "../jobs/job.ts";
import { frameOver } from "../sockets/frame-size.ts";

/**
 * What one frame from a host-agent is: a frame to act on, one of a type this edge does not know,
 * or an error to answer. An error names the job the frame was about when the frame says which, so
 * the agent can fail that job rather than hold a frame the edge will never take.
 */
export type AgentFrameRead =
  | { type: "frame"; frame: AgentFrame }
  | { type: "unknown"; frameType: string }
  | { type: "error"; code: ErrorCode; message: string; job?: JobRef };

/** Only the frame's type: an unknown type is ignored (a newer agent), not refused. */
const FrameType = z.object({ type: z.string() });
/** Only the job a frame names, read from a frame refused for its size or shape. */
const FrameJob = JobResult.pick({ job_id: true, attempt: true });
const KNOWN_TYPES: ReadonlySet<string> = new Set(AgentToEdge.options.map((option) => option.shape.type.value));
const decoder = new TextDecoder();

function refuse(code: ErrorCode, message: string, body: unknown): AgentFrameRead {
  const job = FrameJob.safeParse(body);
  return job.success ? { type: "error", code, message, job: job.data } : { type: "error", code, message };
}

/** Reads one agent-link frame: its size (in bytes), its JSON, and its shape. */
export function readAgentFrame(message: string | ArrayBuffer): AgentFrameRead {
  let body: unknown;
  let json = true;
  try {
    body = JSON.parse(typeof message === "string" ? message : decoder.decode(message));
  } catch {
    json = false;
  }
  // A frame over the limit is still read, only to name its job: the runtime bounds what reaches
  // here, agents are authenticated, and without the name the agent would resend it forever.
  if (frameOver(message, LIMITS.agentFrameMaxBytes)) {
    return refuse("payload_too_large", `frames are limited to ${LIMITS.agentFrameMaxBytes} bytes`, body);
  }
  if (!json) return { type: "error", code: "invalid_json", message: "frame is not valid JSON" };
  const type = FrameType.safeParse(body);
  if (type.success && !KNOWN_TYPES.has(type.data.type)) return { type: "unknown", frameType: type.data.type };
  const frame = AgentToEdge.safeParse(body);
  if (!frame.success) {
    const issue = frame.error.issues[0];
    const where = issue ? `${issue.path.join(".")}: ${issue.message}` : "unreadable";
    return refuse("invalid_request", `invalid frame: ${where}`, body);
  }
  return { type: "frame", frame: frame.data };
}
