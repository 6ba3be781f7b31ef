import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({
    ATOMIC_MAX_SUBSCRIBERS: "2",
    ATOMIC_MAX_BODY_BYTES: "4194304",
    ATOMIC_AGENT_WAIT_MS: "5000",
  });
  agent = await FakeAgent.link(edge, { capacity: 10 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

describe("every limit answers with a 4xx that names it", () => {
  it("prompt length", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "x".repeat(LIMITS.promptMaxChars + 1) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(`longer than ${LIMITS.promptMaxChars}`);
  });

  it("metadata size", async () => {
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "x",
      metadata: { blob: "y".repeat(LIMITS.metadataMaxBytes) },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(`the limit is ${LIMITS.metadataMaxBytes}`);
  });

  it("client WebSocket frame size", async () => {
    const socket = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await socket.opened();
    socket.send(JSON.stringify({ prompt: "x".repeat(LIMITS.clientFrameMaxBytes + 10) }));
    const error = await socket.waitFor((m) => m["type"] === "error");
    expect(error).toMatchObject({ code: "payload_too_large" });
    expect(String(error["error"])).toContain(String(LIMITS.clientFrameMaxBytes));
    socket.close();
  });

  it("agent-link frame size", async () => {
    agent.socket.send({ v: 1, type: "heartbeat", pad: "z".repeat(LIMITS.agentFrameMaxBytes + 10) });
    const error = await agent.socket.waitFor((m) => m["type"] === "error" && m["code"] === "payload_too_large");
    expect(String(error["message"])).toContain(String(LIMITS.agentFrameMaxBytes));
  });

  it("subscribers per pipeline (ATOMIC_MAX_SUBSCRIBERS)", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "popular", async: true });
    const job = await agent.nextJob();
    const first = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${res.body.pipeline_id}`);
    const second = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${res.body.pipeline_id}`);
    await Promise.all([first.opened(), second.opened()]);
    const third = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${res.body.pipeline_id}`);
    await expect(third.opened()).rejects.toThrow(/429/);
    agent.generate(job, ["```python main.py\nprint(1)\n```\n"]);
    await first.waitFor((m) => m["type"] === "result");
  });

  it("files per pipeline and bytes per file", async () => {
    const many = await postJson(`${edge.url}/api/generate`, { prompt: "many files", async: true });
    const job = await agent.nextJob();
    const blocks = Array.from(
      { length: LIMITS.artifactMaxFiles + 1 },
      (_, i) => `\`\`\`python f${i}.py\nprint(${i})\n\`\`\`\n`,
    );
    agent.generate(job, blocks);
    const failed = await until(
      () => getJson(`${edge.url}/api/pipelines/${many.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
    );
    expect(failed.body.error.message).toContain(`the limit is ${LIMITS.artifactMaxFiles}`);

    const big = await postJson(`${edge.url}/api/generate`, { prompt: "one huge file", async: true });
    const bigJob = await agent.nextJob();
    const chunk = "a".repeat(200_000);
    const pieces = [
      "```text big.txt\n",
      ...Array.from({ length: Math.ceil(LIMITS.artifactMaxFileBytes / chunk.length) + 1 }, () => chunk),
      "\n```\n",
    ];
    agent.generate(bigJob, pieces);
    const tooBig = await until(
      () => getJson(`${edge.url}/api/pipelines/${big.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
      20_000,
    );
    expect(tooBig.body.error.message).toContain(`the artifact limit is ${LIMITS.artifactMaxFileBytes}`);
  });
});
