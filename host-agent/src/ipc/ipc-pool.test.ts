import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IpcError } from "./ipc-error.ts";
import { IpcPool, type IpcHealth } from "./ipc-pool.ts";
import type { IpcGeneratePayload } from "./protocol.ts";
import { startAgent, until, type RunningAgent } from "./test-support.ts";

function generatePayload(prompt: string, language = "python"): IpcGeneratePayload {
  const entry: Record<string, string> = { python: "main.py", typescript: "main.ts", javascript: "main.js" };
  return {
    prompt,
    requirements: {
      language,
      framework: null,
      entry_file: entry[language] ?? "main.txt",
      summary: prompt,
      source: "rules",
    },
    metadata: {},
  };
}

async function rejection(promise: Promise<unknown>): Promise<IpcError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the promise to reject");
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(IpcError);
  if (!(error instanceof IpcError)) throw error;
  return error;
}

const REST = "Create a REST API for user management";
const pools: IpcPool[] = [];
function track(pool: IpcPool): IpcPool {
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe("IpcPool against a fast agent", () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent();
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("streams: the chunks add up to the text and `chars` matches it", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    const chunks: string[] = [];
    const result = await pool.stream("generate", generatePayload("Hello World in Python"), {
      onChunk: (delta) => chunks.push(delta),
    });
    const text = chunks.join("");
    expect(chunks.length).toBeGreaterThan(10);
    expect(text).toContain('```python main.py\ndef main() -> None:\n    print("Hello, World!")');
    expect(result).toEqual({
      chars: text.length,
      finish_reason: "stop",
      provider: "offline",
      model: expect.any(String),
    });
  });

  it("counts chars in UTF-16 code units, as JavaScript does", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    let text = "";
    const result = await pool.stream("generate", generatePayload("Plan a party 🎉 with ünïcode guests"), {
      onChunk: (delta) => (text += delta),
    });
    expect(text).toContain("🎉");
    expect(result.chars).toBe(text.length);
    expect(result.chars).toBeGreaterThan([...text].length);
  });

  it("answers unstreamed requests in one piece, the same text as the stream", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    let streamed = "";
    await pool.stream("generate", generatePayload(REST, "typescript"), { onChunk: (delta) => (streamed += delta) });
    const whole = await pool.request("generate", generatePayload(REST, "typescript"));
    expect(whole.content).toBe(streamed);
    expect(whole.chars).toBe(streamed.length);
    expect(await pool.request("parse", { prompt: "A REST API in TypeScript with express", metadata: {} })).toEqual({
      language: "typescript",
      framework: "express",
      entry_file: "main.ts",
      summary: "A REST API in TypeScript with express",
    });
  });

  it("runs many requests at once over at most `size` connections", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath, size: 3 }));
    const opened = () => (agent.logs().match(/"msg": "connection opened"/g) ?? []).length;
    const before = opened();
    const texts = new Map<number, string>();
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        pool.stream(
          "generate",
          generatePayload(i % 2 ? REST : "Hello World in JavaScript", i % 3 ? "python" : "javascript"),
          {
            onChunk: (delta) => texts.set(i, (texts.get(i) ?? "") + delta),
          },
        ),
      ),
    );
    results.forEach((result, i) => expect(result.chars).toBe(texts.get(i)?.length));
    expect(pool.stats().opened).toBe(3);
    expect(pool.stats().open).toBe(3);
    // Counted from the agent's side too: it logs every connection it accepts.
    await until(() => opened() - before === 3, 2_000).catch(() => undefined);
    expect(opened() - before).toBe(3);
    expect(pool.stats().requests).toBe(0);
  });

  it("opens connections lazily and reuses an idle one", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath, size: 4 }));
    expect(pool.stats().open).toBe(0);
    for (let i = 0; i < 3; i++) await pool.request("parse", { prompt: `task ${i}`, metadata: {} });
    expect(pool.stats()).toMatchObject({ size: 4, open: 1, opened: 1, requests: 0 });
  });

  it("reports health and tells listeners when it changes", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath, healthIntervalMs: 50 }));
    expect(pool.health.status).toBe("unavailable");
    const changes: Array<[IpcHealth, IpcHealth]> = [];
    pool.onHealthChange((health, previous) => changes.push([health, previous]));
    pool.start();
    await until(() => pool.health.status === "healthy");
    expect(pool.health).toMatchObject({ status: "healthy", provider: "offline", model: expect.any(String) });
    expect(pool.health.detail).toContain("offline");
    expect(changes).toHaveLength(1);
    expect(changes[0]?.[1].status).toBe("unavailable");
    // Later checks that find the same health are not changes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(changes).toHaveLength(1);
    expect(await pool.checkHealth()).toEqual(pool.health);
  });

  it("rejects a request whose signal is already aborted, without sending it", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    const error = await rejection(
      pool.request("parse", { prompt: "x", metadata: {} }, { signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe("cancelled");
    expect(pool.stats().opened).toBe(0);
  });

  it("close() fails what is in flight, refuses new work and leaves no socket or timer behind", async () => {
    const resources = () => process.getActiveResourcesInfo().filter((name) => name !== "TTYWrap");
    const before = resources();
    const pool = new IpcPool({ socketPath: agent.socketPath, size: 2, healthIntervalMs: 20 });
    pool.start();
    await until(() => pool.health.status === "healthy");
    const running = rejection(pool.stream("generate", generatePayload(REST), { onChunk: () => undefined }));
    await pool.close();
    const error = await running;
    expect([error.code, error.retryable]).toEqual(["llm_unavailable", true]);
    expect((await rejection(pool.request("parse", { prompt: "x", metadata: {} }))).code).toBe("llm_unavailable");
    expect(pool.stats()).toMatchObject({ open: 0, connecting: 0, backoff: 0, requests: 0 });
    await until(() => resources().length <= before.length, 2_000).catch(() => undefined);
    expect(resources().sort()).toEqual(before.sort());
  });
});

describe("IpcPool against a slow agent (20 ms between chunks)", () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent({ env: { ATOMIC_LLM_OFFLINE_DELAY_MS: "20" } });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("spreads concurrent requests over the least loaded connections", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath, size: 4 }));
    const controller = new AbortController();
    const started: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) {
      started.push(
        pool
          .stream("generate", generatePayload(REST), { signal: controller.signal, onChunk: () => undefined })
          .catch(() => undefined),
      );
    }
    await until(() => pool.stats().open === 4);
    expect(pool.stats().inFlight.sort()).toEqual([2, 2, 2, 2]);
    controller.abort();
    await Promise.all(started);
    expect(pool.stats().requests).toBe(0);
  });

  it("times out: rejects with a retryable `timeout` and the agent stops working on it", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    let chunks = 0;
    const startedAt = Date.now();
    const error = await rejection(
      pool.stream("generate", generatePayload(REST), { timeoutMs: 300, onChunk: () => (chunks += 1) }),
    );
    expect([error.code, error.retryable]).toEqual(["timeout", true]);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(chunks).toBeGreaterThan(0);
    // The agent ends the request (CANCEL from us, or its own copy of the deadline) instead of
    // streaming the remaining ~15 s of text.
    await until(
      () => /"msg": "request (cancelled|failed)".*"code": "timeout"|"msg": "request cancelled"/.test(agent.logs()),
      2_000,
    );
    expect(pool.stats().requests).toBe(0);
  });

  it("cancels through an AbortSignal: rejects with `cancelled` and sends CANCEL", async () => {
    const pool = track(new IpcPool({ socketPath: agent.socketPath }));
    const controller = new AbortController();
    const cancelledBefore = (agent.logs().match(/"msg": "request cancelled"/g) ?? []).length;
    let chunks = 0;
    const running = pool.stream("generate", generatePayload(REST), {
      signal: controller.signal,
      onChunk: () => {
        chunks += 1;
        if (chunks === 3) controller.abort();
      },
    });
    const error = await rejection(running);
    expect([error.code, error.retryable]).toEqual(["cancelled", false]);
    expect(chunks).toBe(3);
    await until(() => (agent.logs().match(/"msg": "request cancelled"/g) ?? []).length > cancelledBefore, 2_000);
    // The connection is still good for the next request.
    expect(await pool.request("parse", { prompt: "Hello", metadata: {} })).toMatchObject({ language: "python" });
    expect(pool.stats().opened).toBe(1);
  });
});
