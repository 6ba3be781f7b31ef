import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

/** With API keys, each pipeline belongs to the key that made it; operator keys see them all. */
let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({
    ATOMIC_API_KEYS: "key-a,key-b",
    ATOMIC_OPERATOR_KEYS: "key-operator",
    ATOMIC_RATE_LIMIT_PER_MIN: "0",
  });
  agent = await FakeAgent.link(edge, { id: "ownership-agent" });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });

async function completedPipelineOf(key: string): Promise<string> {
  const res = await postJson(`${edge.url}/api/generate`, { prompt: `made by ${key}`, async: true }, as(key));
  expect(res.status).toBe(202);
  agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
  await until(
    () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`, as(key)),
    (r) => r.body.state === "COMPLETED",
  );
  return res.body.pipeline_id;
}

/** The status a WebSocket upgrade of `url` is answered with (101 when it is taken). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        ...headers,
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Status of every way to reach a pipeline, with `key`. */
async function reach(id: string, key: string): Promise<Record<string, number>> {
  const base = `${edge.url}/api/pipelines/${id}`;
  const status = async (url: string, init: RequestInit = {}) =>
    (await fetch(url, { ...init, headers: { ...as(key), ...(init.headers ?? {}) } })).status;
  return {
    view: await status(base),
    events: await status(`${base}/events`),
    manifest: await status(`${base}/artifacts`),
    file: await status(`${base}/artifacts/main.py`),
    tar: await status(`${base}/artifacts.tar`),
    follow: await upgradeStatus(`${edge.url}/ws/pipelines/${id}`, as(key)),
  };
}

describe("pipelines belong to the key that made them", () => {
  it("answers 404 to another key on every route, 200 to the owner and to an operator", async () => {
    const id = await completedPipelineOf("key-a");
    const other = await reach(id, "key-b");
    expect(other).toEqual({ view: 404, events: 404, manifest: 404, file: 404, tar: 404, follow: 404 });
    const cancel = await postJson(`${edge.url}/api/pipelines/${id}/cancel`, {}, as("key-b"));
    expect(cancel.status).toBe(404);
    // The same answer as for an id that does not exist: the id is not confirmed.
    const missing = await getJson(`${edge.url}/api/pipelines/${crypto.randomUUID()}`, as("key-b"));
    expect(missing.body.error.code).toBe(
      (await getJson(`${edge.url}/api/pipelines/${id}`, as("key-b"))).body.error.code,
    );
    for (const key of ["key-a", "key-operator"]) {
      const mine = await reach(id, key);
      expect(mine.view, key).toBe(200);
      expect(mine.events, key).toBe(200);
      expect(mine.manifest, key).toBe(200);
      expect(mine.file, key).toBe(200);
      expect(mine.tar, key).toBe(200);
      expect(mine.follow, key).toBe(101);
    }
  });

  it("lists each key's own pipelines, and every pipeline for an operator", async () => {
    const a = await completedPipelineOf("key-a");
    const b = await completedPipelineOf("key-b");
    const ids = async (key: string) =>
      (
        (await getJson(`${edge.url}/api/pipelines?limit=100`, as(key))).body.pipelines as Array<{ pipeline_id: string }>
      ).map((row) => row.pipeline_id);
    const ofA = await ids("key-a");
    const ofB = await ids("key-b");
    expect(ofA).toContain(a);
    expect(ofA).not.toContain(b);
    expect(ofB).toContain(b);
    expect(ofB).not.toContain(a);
    const all = await ids("key-operator");
    expect(all).toContain(a);
    expect(all).toContain(b);
  });

  it("gives a pipeline started over /ws/stream to the key of the socket, and lets only it cancel", async () => {
    const socket = new RecordingSocket(`${edge.wsUrl}/ws/stream?access_token=key-b`);
    await socket.opened();
    socket.send({ prompt: "started on a socket" });
    const queued = await socket.waitFor((m) => m["type"] === "queued");
    const id = String(queued["pipeline_id"]);
    await agent.nextJob();
    expect((await getJson(`${edge.url}/api/pipelines/${id}`, as("key-a"))).status).toBe(404);
    expect((await postJson(`${edge.url}/api/pipelines/${id}/cancel`, {}, as("key-a"))).status).toBe(404);
    const cancelled = await postJson(`${edge.url}/api/pipelines/${id}/cancel`, {}, as("key-b"));
    expect(cancelled.body).toMatchObject({ success: true, state: "CANCELLED" });
    socket.close();
  });
});
