import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

let edge: EdgeHandle;
let agent: FakeAgent;

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "5000" });
  agent = await FakeAgent.link(edge, { capacity: 20 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const TOKENS = ["import ", "express", " from 'express'\n"];

describe("/ws/stream (the seed's protocol)", () => {
  it("streams chunks with delta, running content, is_final, seq and pipeline_id", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send({ prompt: "Build a REST API", metadata: { stream: true } });
    const job = await agent.nextJob();
    agent.generate(job, TOKENS);
    await client.waitFor((m) => m["type"] === "result");
    const chunks = client.messages.filter((m: any) => m.type === "chunk") as any[];
    expect(chunks.map((c) => c.delta)).toEqual([...TOKENS, ""]);
    expect(chunks.map((c) => c.content)).toEqual(["import ", "import express", TOKENS.join(""), TOKENS.join("")]);
    expect(chunks.map((c) => c.is_final)).toEqual([false, false, false, true]);
    const all = client.messages as any[];
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
    expect(new Set(all.map((m) => m.pipeline_id)).size).toBe(1);
    expect((await client.waitClosed()).code).toBe(1000);
  });

  it("answers a text frame that is not JSON with a type:error and keeps serving", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send("this is not json");
    const error = await client.waitFor((m) => m["type"] === "error");
    expect(error).toMatchObject({ type: "error", code: "invalid_json" });
    client.send({ metadata: {} });
    const invalid = await client.waitFor((m) => m["type"] === "error" && m["code"] === "invalid_request");
    expect(String(invalid["error"])).toContain("prompt");
    client.send({ prompt: "now a real one" });
    agent.generate(await agent.nextJob(), TOKENS);
    await client.waitFor((m) => m["type"] === "result");
    expect((await getJson(`${edge.url}/health`)).status).toBe(200);
  });

  it("delta mode leaves the running content out", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send({ prompt: "big output", metadata: { stream_mode: "delta" } });
    agent.generate(await agent.nextJob(), TOKENS);
    await client.waitFor((m) => m["type"] === "result");
    const chunks = client.messages.filter((m: any) => m.type === "chunk") as any[];
    expect(chunks.length).toBe(4);
    for (const chunk of chunks) expect(chunk).not.toHaveProperty("content");
  });

  it("answers a ping with a pong, before and after the pipeline starts", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send('{"type":"ping"}');
    await client.waitFor((m) => m["type"] === "pong");
    client.send({ prompt: "ping me" });
    const job = await agent.nextJob();
    const before = client.messages.length;
    client.send('{"type":"ping"}');
    await client.waitFor((m) => m["type"] === "pong", 5000, before);
    agent.generate(job, TOKENS);
    await client.waitFor((m) => m["type"] === "result");
  });

  it("cancels through the socket", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send({ prompt: "cancel from socket" });
    const job = await agent.nextJob();
    client.send({ type: "cancel" });
    const error = await client.waitFor((m) => m["type"] === "error");
    expect(error["code"]).toBe("cancelled");
    await agent.socket.waitFor((m) => m["type"] === "job.cancel" && m["job_id"] === job.job_id);
  });
});

describe("/ws/pipelines/:id", () => {
  it("fans out to several sockets, and a client that comes back with after=SEQ misses nothing and sees nothing twice", async () => {
    const starter = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await starter.opened();
    starter.send({ prompt: "fan me out" });
    const queued = await starter.waitFor((m) => m["type"] === "queued");
    const id = String(queued["pipeline_id"]);
    const job = await agent.nextJob();
    const subscribers = await Promise.all(
      [0, 1, 2].map(async () => {
        const s = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${id}`);
        await s.opened();
        return s;
      }),
    );
    await Promise.all(subscribers.map((s) => s.waitFor((m) => m["type"] === "stage" && m["stage"] === "GENERATING")));
    const words = Array.from({ length: 30 }, (_, i) => `w${i} `);
    words.slice(0, 10).forEach((w, i) => agent.token(job, i + 1, w));
    // One subscriber drops mid-stream and comes back with the last seq it saw.
    const dropper = subscribers[0]!;
    await dropper.waitFor((m) => m["type"] === "chunk" && m["delta"] === "w9 ");
    dropper.terminate();
    const lastSeen = Math.max(...(dropper.messages as any[]).map((m) => m.seq));
    words.slice(10).forEach((w, i) => agent.token(job, i + 11, w));
    const back = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${id}?after=${lastSeen}`);
    await back.opened();
    agent.result(job, 30, { chars: words.join("").length, finish_reason: "stop", provider: "test" });
    for (const s of [subscribers[1]!, subscribers[2]!, back, starter]) await s.waitFor((m) => m["type"] === "result");
    const combined = [...(dropper.messages as any[]).filter((m) => m.seq <= lastSeen), ...(back.messages as any[])];
    expect(combined.map((m) => m.seq)).toEqual(combined.map((_, i) => i + 1));
    expect(back.messages[0]).toMatchObject({ seq: lastSeen + 1 });
    const full = starter.messages as any[];
    expect(combined).toEqual(full);
    for (const s of [subscribers[1]!, subscribers[2]!]) {
      const text = (s.messages as any[])
        .filter((m) => m.type === "chunk")
        .map((m) => m.delta)
        .join("");
      expect(text).toBe(words.join(""));
    }
    const resumedChunk = (back.messages as any[]).find((m) => m.type === "chunk");
    expect(resumedChunk.content).toBe(
      words.slice(0, resumedChunk.seq - full.find((m) => m.type === "chunk").seq + 1).join(""),
    );
  });

  it("replays a finished pipeline and closes; refuses an unknown one with 404", async () => {
    const starter = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await starter.opened();
    starter.send({ prompt: "finished" });
    const queued = await starter.waitFor((m) => m["type"] === "queued");
    agent.generate(await agent.nextJob(), TOKENS);
    await starter.waitFor((m) => m["type"] === "result");
    const late = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${String(queued["pipeline_id"])}?after=0`);
    await late.opened();
    // The server closes right after the replay; the close handshake is what the client sees.
    await until(
      async () => late.ws.readyState,
      (state) => state >= 2,
    );
    expect(late.messages).toEqual(starter.messages);
    const missing = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${crypto.randomUUID()}`);
    await expect(missing.opened()).rejects.toThrow(/404/);
  });

  it("refuses a plain GET without an upgrade and a bad after", async () => {
    const res = await getJson(`${edge.url}/ws/stream`);
    expect(res.status).toBe(426);
    expect(res.body.error).toMatchObject({ code: "upgrade_required", message: expect.stringContaining("Upgrade") });
    const bad = new RecordingSocket(`${edge.wsUrl}/ws/pipelines/${crypto.randomUUID()}?after=-3`);
    await expect(bad.opened()).rejects.toThrow(/400/);
    await until(
      () => getJson(`${edge.url}/health`),
      (r) => r.status === 200,
    );
  });
});
