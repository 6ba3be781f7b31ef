import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Heartbeat } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { Fuzzer } from "../support/random.ts";
import { RecordingSocket } from "../support/ws.ts";

/** Fixed seed and bounded counts: the same inputs every run; `npm run fuzz` runs longer. */
const SEED = Number(process.env["ATOMIC_FUZZ_SEED"] ?? 20261123);
const COUNT = Number(process.env["ATOMIC_FUZZ_COUNT"] ?? 150);

let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({
    ATOMIC_AGENT_WAIT_MS: "200",
    ATOMIC_MAX_QUEUE_SIZE: "100000",
    ATOMIC_MAX_CONCURRENT: "1000",
  });
});
afterAll(async () => edge?.dispose());

describe("fuzzing the edge", () => {
  it(`answers ${COUNT} random bodies and headers without a 5xx`, async () => {
    const fuzz = new Fuzzer(SEED);
    const routes = ["/api/generate", "/api/execute", `/api/pipelines/${crypto.randomUUID()}/cancel`];
    const types = [
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "",
      "application/json; charset=utf-8",
    ];
    for (let i = 0; i < COUNT; i++) {
      const headers: Record<string, string> = {};
      const type = fuzz.pick(types);
      if (type) headers["Content-Type"] = type;
      if (fuzz.random() < 0.2) headers["Prefer"] = fuzz.string(20).replace(/[^\x20-\x7e]/g, "");
      if (fuzz.random() < 0.2) headers["Accept"] = fuzz.pick(["text/event-stream", "*/*", "application/json"]);
      const res = await fetch(`${edge.url}${fuzz.pick(routes)}`, { method: "POST", headers, body: fuzz.body() });
      const text = await res.text();
      if (res.headers.get("content-type")?.includes("text/event-stream")) continue;
      const body = JSON.parse(text);
      // A body that is valid by chance starts a pipeline, which (no agent here) ends 503 no_agent:
      // the one 5xx that is a correct answer. Anything else at 500+ is a defect.
      if (res.status >= 500)
        expect(body.error.code, `input #${i}: ${text}`).toMatch(/^(no_agent|sandbox_unavailable)$/);
      if (res.status >= 400) expect(body.error.code, `input #${i}`).toMatch(/^[a-z_]+$/);
    }
    expect((await getJson(`${edge.url}/health`)).status).toBe(200);
    // No pipeline is left stuck: every one the fuzz started has ended.
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.active_pipelines === 0 && r.body.queue_size === 0,
      15_000,
    );
  });

  it(`answers ${COUNT} random client WebSocket frames with errors, and the socket keeps serving`, async () => {
    const fuzz = new Fuzzer(SEED + 1);
    const socket = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await socket.opened();
    let sent = 0;
    for (let i = 0; i < COUNT; i++) {
      let frame = fuzz.body();
      // A frame that happens to be a valid request would start a pipeline; keep this socket idle.
      if (/"prompt"\s*:\s*"[^"]*[^\s"]/.test(frame)) frame = frame.replace(/"prompt"/g, '"prompt_"');
      socket.send(frame);
      sent += 1;
    }
    await until(
      async () => socket.messages.length,
      (n) => n >= sent,
    );
    for (const message of socket.messages) expect(message).toMatchObject({ type: "error" });
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it(`answers ${COUNT} random agent-link frames with error frames or silence, and the link survives`, async () => {
    const fuzz = new Fuzzer(SEED + 2);
    const agent = await FakeAgent.link(edge, { id: "fuzzed-agent" });
    const types = [
      "hello",
      "heartbeat",
      "job.event",
      "job.result",
      "job.accepted",
      "job.rejected",
      "draining",
      "ack",
      "nonsense",
    ];
    for (let i = 0; i < COUNT; i++) {
      const value = fuzz.value();
      const frame =
        fuzz.random() < 0.6 && typeof value === "object" && value !== null && !Array.isArray(value)
          ? { ...value, v: 1, type: fuzz.pick(types.filter((t) => t !== "draining" && t !== "hello")) }
          : fuzz.body();
      agent.socket.send(frame);
    }
    agent.socket.send({
      v: 1,
      type: "heartbeat",
      health: { llm: { status: "healthy" }, docker: { status: "unavailable" } },
      load: { running: 0 },
    } satisfies Heartbeat);
    await agent.socket.waitFor((m) => m["type"] === "heartbeat.ack", 15_000);
    expect(agent.socket.closed).toBeNull();
    // The link still does its job after all that.
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "after the storm", async: true });
    agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    agent.close();
  });
});
