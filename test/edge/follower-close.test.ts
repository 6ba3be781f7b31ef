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

describe("following a finished pipeline", () => {
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
