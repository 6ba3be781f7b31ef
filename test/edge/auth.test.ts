import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

let edge: EdgeHandle;
const KEY_A = "key-a-0123456789";
const KEY_B = "key-b-9876543210";
beforeAll(async () => {
  edge = await startEdge({
    ATOMIC_API_KEYS: `${KEY_A}, ${KEY_B}`,
    ATOMIC_RATE_LIMIT_PER_MIN: "20",
    ATOMIC_AGENT_WAIT_MS: "3000",
  });
});
afterAll(async () => edge?.dispose());

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe("client API keys", () => {
  it("leaves /health open and says auth is on", async () => {
    const res = await getJson(`${edge.url}/health`);
    expect(res.status).toBe(200);
    expect(res.body.auth).toBe("api_keys");
  });

  it("answers 401 JSON without a key or with a wrong one, and serves a right one", async () => {
    const none = await getJson(`${edge.url}/api/status`);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, error: { code: "unauthorized" } });
    expect((await getJson(`${edge.url}/api/status`, bearer("nope"))).status).toBe(401);
    expect((await getJson(`${edge.url}/api/status`, bearer(KEY_B))).status).toBe(200);
    const post = await postJson(`${edge.url}/api/generate`, { prompt: "x" });
    expect(post.status).toBe(401);
  });

  it("guards WebSockets too, taking ?access_token= where headers cannot be set", async () => {
    const refused = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await expect(refused.opened()).rejects.toThrow(/401/);
    const byQuery = new RecordingSocket(`${edge.wsUrl}/ws/stream?access_token=${KEY_A}`);
    await byQuery.opened();
    byQuery.close();
    const byHeader = new RecordingSocket(`${edge.wsUrl}/ws/stream`, bearer(KEY_A));
    await byHeader.opened();
    byHeader.close();
  });

  it("limits each key on its own, answering 429 with Retry-After", async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof getJson>> | null = null;
    for (let i = 0; i < 25; i++) {
      const res = await getJson(`${edge.url}/api/metrics`, bearer(KEY_A));
      statuses.push(res.status);
      if (res.status === 429) {
        limited = res;
        break;
      }
    }
    expect(limited).not.toBeNull();
    expect(limited!.body.error.code).toBe("rate_limited");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(20);
    expect((await getJson(`${edge.url}/api/status`, bearer(KEY_B))).status).toBe(200);
  });

  it("lets a host-agent fetch artifacts with the agent token, and nothing else", async () => {
    const agent = await FakeAgent.link(edge);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "artifact", async: true }, bearer(KEY_B));
    agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    const id = res.body.pipeline_id;
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`, bearer(KEY_B)),
      (r) => r.body.state === "COMPLETED",
    );
    const file = await fetch(`${edge.url}/api/pipelines/${id}/artifacts/main.py`, { headers: bearer(edge.token) });
    expect(await file.text()).toBe("print(1)\n");
    expect((await getJson(`${edge.url}/api/pipelines/${id}`, bearer(edge.token))).status).toBe(401);
    agent.close();
  });
});
