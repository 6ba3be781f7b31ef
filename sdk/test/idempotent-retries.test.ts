import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../../test/support/fake-agent.ts";
import { AtomicClient, type FetchLike } from "../src/index.ts";

/**
 * A lost answer: the request reached the edge and started work, but its answer never came back.
 * The client sends it again with the same Idempotency-Key, and the edge answers with the work the
 * first attempt started: one pipeline, one sandbox run.
 */
let edge: EdgeHandle;
let agent: FakeAgent;
beforeAll(async () => {
  edge = await startEdge();
  agent = await FakeAgent.link(edge, {
    id: "sdk-idempotency-agent",
    capacity: 4,
    kinds: ["llm.generate", "export", "sandbox.execute"],
    docker: true,
  });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

/** A fetch that lets the first POST to `path` reach the edge, then throws its answer away. */
function losingFirstAnswer(path: string): { fetch: FetchLike; keys: string[] } {
  const keys: string[] = [];
  let lost = false;
  return {
    keys,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith(path) && init?.method === "POST") {
        keys.push(new Headers(init.headers).get("Idempotency-Key") ?? "none");
        if (!lost) {
          lost = true;
          await response.body?.cancel();
          throw new TypeError("fetch failed: the connection was reset");
        }
      }
      return response;
    },
  };
}

describe("retries after a lost answer", () => {
  it("generate: the retry carries the same key and answers with the one pipeline the first attempt started", async () => {
    const { fetch, keys } = losingFirstAnswer("/api/generate");
    const client = new AtomicClient({ baseUrl: edge.url, fetch });
    // async: true is followed to its end; the agent runs the one job there is.
    const pending = client.generate({ prompt: "exactly once", async: true });
    agent.generate(await agent.nextJob(), ["```python main.py\nprint(1)\n```\n"]);
    const result = await pending;
    expect(result.state).toBe("COMPLETED");
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    await expect(agent.nextJob("llm.generate", 500)).rejects.toThrow();
    const list = await globalThis
      .fetch(`${edge.url}/api/pipelines`)
      .then((r) => r.json() as Promise<{ pipelines: unknown[] }>);
    expect(list.pipelines).toHaveLength(1);
  });

  it("execute: the retry gets the first run's answer, and the host ran the code once", async () => {
    const { fetch, keys } = losingFirstAnswer("/api/execute");
    const client = new AtomicClient({ baseUrl: edge.url, fetch });
    const pending = client.execute({ language: "python", code: "print('once')" }, { idempotencyKey: "run-once-1" });
    agent.result(await agent.nextJob("sandbox.execute"), 0, SANDBOX_RESULT);
    const answer = await pending;
    expect(answer).toMatchObject({ ...SANDBOX_RESULT });
    expect(keys).toEqual(["run-once-1", "run-once-1"]);
    await expect(agent.nextJob("sandbox.execute", 500)).rejects.toThrow();
  });
});
