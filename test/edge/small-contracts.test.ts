import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
const CODE = ["```python main.py\nprint('etag')\n```\n"];

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "5000" });
  agent = await FakeAgent.link(edge, { capacity: 10 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

describe("small parts of the contract", () => {
  it("answers 304 to an artifact file's own ETag, and 200 to any other", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "etag me", async: true });
    const id = String(res.body.pipeline_id);
    agent.generate(await agent.nextJob(), CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const url = `${edge.url}/api/pipelines/${id}/artifacts/main.py`;
    const first = await fetch(url);
    const etag = first.headers.get("etag");
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("print('etag')\n");
    expect(etag).toMatch(/^"/);
    const again = await fetch(url, { headers: { "If-None-Match": `"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe("");
    const weak = await fetch(url, { headers: { "If-None-Match": `W/${etag}` } });
    expect(weak.status).toBe(304);
    const changed = await fetch(url, { headers: { "If-None-Match": '"not-it"' } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe("print('etag')\n");
  });

  it("refuses /api/execute for a malformed pool with a 400 naming it", async () => {
    const res = await postJson(`${edge.url}/api/execute?pool=Not%20A%20Pool`, { language: "python", code: "print(1)" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toMatch(/^pool: /);
  });

  it("lists a cancelled pipeline's stages that never started as skipped", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "cancel early", async: true });
    const id = String(res.body.pipeline_id);
    await agent.nextJob();
    const cancelled = await postJson(`${edge.url}/api/pipelines/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const view = await getJson(`${edge.url}/api/pipelines/${id}`);
    const stages = Object.fromEntries(
      (view.body.stages as Array<{ stage: string; status: string }>).map((s) => [s.stage, s.status]),
    );
    expect(stages).toEqual({ PARSING: "completed", GENERATING: "cancelled", PACKAGING: "skipped" });
  });

  it("answers ping before a prompt on /ws/stream, says there is nothing to cancel, then takes the prompt", async () => {
    const socket = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await socket.opened();
    socket.send({ type: "ping", note: "not the exact auto-answered text" });
    await socket.waitFor((m) => m["type"] === "pong");
    socket.send({ type: "cancel" });
    const error = await socket.waitFor((m) => m["type"] === "error");
    expect(error).toMatchObject({ code: "conflict" });
    socket.send({ prompt: "after all that" });
    await socket.waitFor((m) => m["type"] === "queued");
    agent.generate(await agent.nextJob(), CODE);
    await socket.waitFor((m) => m["type"] === "result");
    socket.close();
  });
});
