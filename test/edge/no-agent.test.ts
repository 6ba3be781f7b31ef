import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { postJson } from "../support/http.ts";

let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "500" });
});
afterAll(async () => edge?.dispose());

describe("no host-agent", () => {
  it("answers 503 no_agent after ATOMIC_AGENT_WAIT_MS", async () => {
    const started = Date.now();
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "nobody home" });
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.code).toBe("no_agent");
    expect(res.body.error.message).toContain("ATOMIC_AGENT_WAIT_MS");
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it("starts queued work when an agent links within the wait", async () => {
    const slow = await startEdge({ ATOMIC_AGENT_WAIT_MS: "20000" });
    try {
      const pending = postJson(`${slow.url}/api/generate`, { prompt: "wait for me" });
      await new Promise((r) => setTimeout(r, 300));
      const agent = await FakeAgent.link(slow);
      agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body.content).toContain("print(1)");
      agent.close();
    } finally {
      await slow.dispose();
    }
  });
});
