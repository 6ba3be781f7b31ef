import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
const CODE = ["```python main.py\nprint(1)\n```\n"];

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_MAX_CONCURRENT: "1", ATOMIC_MAX_QUEUE_SIZE: "3", ATOMIC_AGENT_WAIT_MS: "10000" });
  agent = await FakeAgent.link(edge, { capacity: 1 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

describe("the queue", () => {
  it("runs HIGH before NORMAL before LOW, FIFO within a level, and refuses work past its size", async () => {
    const first = await postJson(`${edge.url}/api/generate`, { prompt: "holds the only slot", async: true });
    const running = await agent.nextJob();
    const submit = async (prompt: string, priority: string) => {
      const res = await postJson(`${edge.url}/api/generate`, { prompt, priority, async: true });
      expect(res.status).toBe(202);
      return res.body.pipeline_id as string;
    };
    await submit("low-1", "low");
    await submit("normal-1", "normal");
    await submit("high-1", "high");
    const status = await getJson(`${edge.url}/api/status`);
    expect(status.body).toMatchObject({
      active_pipelines: 1,
      queue_size: 3,
      queue_by_priority: { high: 1, normal: 1, low: 1 },
    });

    const full = await postJson(`${edge.url}/api/generate`, { prompt: "one too many", async: true });
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe("queue_full");
    expect(Number(full.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    agent.generate(running, CODE);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await agent.nextJob();
      order.push(String(job.payload["prompt"]));
      agent.generate(job, CODE);
    }
    expect(order).toEqual(["high-1", "normal-1", "low-1"]);
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.active_pipelines === 0 && r.body.queue_size === 0,
    );
    const metrics = await getJson(`${edge.url}/api/metrics`);
    expect(metrics.body.rejected_requests).toBe(1);
    expect(metrics.body.successful_requests).toBe(4);
    expect((await getJson(`${edge.url}/api/pipelines/${first.body.pipeline_id}`)).body.state).toBe("COMPLETED");
  });

  it("tells a queued pipeline its position and keeps FIFO within one level", async () => {
    await postJson(`${edge.url}/api/generate`, { prompt: "slot", async: true });
    const holder = await agent.nextJob();
    const a = await postJson(`${edge.url}/api/generate`, { prompt: "n-a", async: true });
    const b = await postJson(`${edge.url}/api/generate`, { prompt: "n-b", async: true });
    const events = await fetch(`${edge.url}/api/pipelines/${b.body.pipeline_id}/events`);
    const reader = events.body!.getReader();
    // The stream may arrive in pieces (its `retry:` line alone first): read until the first event is in.
    const decoder = new TextDecoder();
    let first = "";
    while (!first.includes('"type":"queued"')) {
      const piece = await reader.read();
      if (piece.done) break;
      first += decoder.decode(piece.value, { stream: true });
    }
    expect(first).toContain('"type":"queued"');
    expect(first).toContain('"position":2');
    await reader.cancel();
    agent.generate(holder, CODE);
    const next = await agent.nextJob();
    expect(next.payload["prompt"]).toBe("n-a");
    agent.generate(next, CODE);
    const last = await agent.nextJob();
    expect(last.payload["prompt"]).toBe("n-b");
    agent.generate(last, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${a.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
  });
});
