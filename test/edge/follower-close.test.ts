import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "5000" });
  agent = await FakeAgent.link(edge);
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

describe("following a pipeline", () => {
  it("a live follower gets every event, then the close, and its connection ends at once", async () => {
    for (const ping of [false, true]) {
      const res = await postJson(`${edge.url}/api/generate`, { prompt: "follow me live", async: true });
      const id = String(res.body.pipeline_id);
      const job = await agent.nextJob();
      const socket = new WebSocket(`${edge.wsUrl}/ws/pipelines/${id}`);
      const types: string[] = [];
      let lastEventAt = 0;
      socket.on("message", (data: Buffer) => {
        const event: unknown = JSON.parse(data.toString());
        if (typeof event === "object" && event !== null && "type" in event) types.push(String(event.type));
        lastEventAt = Date.now();
      });
      await new Promise((resolve) => socket.once("open", resolve));
      if (ping) {
        socket.send('{"type":"ping"}');
        await until(
          async () => types,
          (seen) => seen.includes("pong"),
        );
      }
      const closed = new Promise<number>((resolve) => socket.once("close", resolve));
      agent.generate(job, ["```python main.py\nprint(1)\n```\n"]);
      expect(await closed).toBe(1000);
      expect(types.at(-1)).toBe("result");
      expect(Date.now() - lastEventAt, "ms from the last event to the end of the connection").toBeLessThan(5_000);
    }
  });

  it("replays its events, closes with 1000, and ends the connection at once, whether or not the client spoke", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "follow me later", async: true });
    const id = String(res.body.pipeline_id);
    agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );
    for (const ping of [false, true]) {
      const socket = new WebSocket(`${edge.wsUrl}/ws/pipelines/${id}?after=0`);
      const seqs: number[] = [];
      socket.on("message", (data: Buffer) => {
        const event: unknown = JSON.parse(data.toString());
        if (typeof event === "object" && event !== null && "seq" in event) seqs.push(Number(event.seq));
      });
      if (ping) socket.once("open", () => socket.send('{"type":"ping"}'));
      const opened = Date.now();
      // `close` fires once the TCP connection has ended, not when the close frame arrives.
      const code = await new Promise<number>((resolve) => socket.once("close", resolve));
      expect(code).toBe(1000);
      expect(seqs).toEqual(Array.from({ length: view.body.last_seq }, (_, i) => i + 1));
      expect(Date.now() - opened, `connection ended ${Date.now() - opened} ms after open`).toBeLessThan(5_000);
    }
  });
});
