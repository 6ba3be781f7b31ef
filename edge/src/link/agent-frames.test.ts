import { describe, expect, it } from "vitest";
import { LIMITS, LINK_VERSION } from "../../../shared/src/index.ts";
import { readAgentFrame } from "./agent-frames.ts";

const health = { llm: { status: "healthy" }, docker: { status: "unavailable" } } as const;

describe("agent-link frames", () => {
  it("reads a valid frame, text or binary", () => {
    const heartbeat = JSON.stringify({ v: LINK_VERSION, type: "heartbeat", health, load: { running: 2 } });
    expect(readAgentFrame(heartbeat)).toMatchObject({
      type: "frame",
      frame: { type: "heartbeat", load: { running: 2 } },
    });
    const bytes = new TextEncoder().encode(heartbeat);
    const buffer = new ArrayBuffer(bytes.length);
    new Uint8Array(buffer).set(bytes);
    expect(readAgentFrame(buffer)).toMatchObject({ type: "frame", frame: { type: "heartbeat" } });
  });

  it("ignores a frame of a type it does not know, so newer agents keep working", () => {
    expect(readAgentFrame(JSON.stringify({ v: LINK_VERSION, type: "metrics.v2", x: 1 }))).toEqual({
      type: "unknown",
      frameType: "metrics.v2",
    });
  });

  it("names the field of a known frame that does not parse", () => {
    const read = readAgentFrame(JSON.stringify({ v: LINK_VERSION, type: "heartbeat", health, load: { running: -1 } }));
    expect(read).toMatchObject({ type: "error", code: "invalid_request" });
    expect(read.type === "error" && read.message).toContain("load.running");
  });

  it("names the job of a frame it refuses for its size or its shape, so the agent can fail that job", () => {
    const job = { job_id: "execute/e1", attempt: 2 };
    // 90,000 NULs: 540,000 bytes as JSON.
    const nuls = JSON.stringify({
      v: LINK_VERSION,
      type: "job.result",
      ...job,
      events: 0,
      outcome: { ok: true, result: { stdout: "\0".repeat(90_000) } },
    });
    expect(readAgentFrame(nuls)).toMatchObject({ type: "error", code: "payload_too_large", job });
    const long = {
      v: LINK_VERSION,
      type: "job.event",
      ...job,
      seq: 1,
      event: { kind: "progress", message: "x".repeat(2000) },
    };
    expect(readAgentFrame(JSON.stringify(long))).toMatchObject({ type: "error", code: "invalid_request", job });
    // Frames that name no job are refused without one.
    const heartbeat = readAgentFrame(JSON.stringify({ v: LINK_VERSION, type: "heartbeat", health, load: {} }));
    expect(heartbeat).toMatchObject({ type: "error", code: "invalid_request" });
    expect(heartbeat).not.toHaveProperty("job");
  });

  it("refuses what is not JSON, and frames over the limit counted in UTF-8 bytes", () => {
    expect(readAgentFrame("{")).toMatchObject({ type: "error", code: "invalid_json" });
    const wide = JSON.stringify({ v: LINK_VERSION, type: "draining", note: "€".repeat(LIMITS.agentFrameMaxBytes / 3) });
    expect(wide.length).toBeLessThan(LIMITS.agentFrameMaxBytes);
    expect(readAgentFrame(wide)).toMatchObject({ type: "error", code: "payload_too_large" });
  });
});
