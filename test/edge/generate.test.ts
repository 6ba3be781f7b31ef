import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge);
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

const PROGRAM = ["Here it is:\n\n```python main.py\n", "print(", '"Hello, World!"', ")\n```\n"];

describe("POST /api/generate", () => {
  it("waits for the pipeline and answers the seed's shape with content and artifacts", async () => {
    const pending = fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "Hello World in Python", metadata: { language: "python" } }),
    });
    const job = await agent.nextJob("llm.generate");
    expect(job.payload["prompt"]).toBe("Hello World in Python");
    agent.generate(job, PROGRAM);
    const res = await pending;
    const body = (await res.json()) as Record<string, any>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.success).toBe(true);
    expect(body.content).toBe(PROGRAM.join(""));
    expect(body.pipeline_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(body.processing_time_ms).toBeGreaterThanOrEqual(0);
    expect(body.artifacts.files).toEqual([expect.objectContaining({ path: "main.py", language: "python" })]);
    const file = await fetch(`${edge.url}/api/pipelines/${body.pipeline_id}/artifacts/main.py`);
    expect(await file.text()).toBe('print("Hello, World!")\n');
  });
});
