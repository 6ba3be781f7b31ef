import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { IpcError } from "./ipc-error.ts";
import { IpcPool } from "./ipc-pool.ts";
import type { IpcGeneratePayload } from "./protocol.ts";
import { startAgent, tempDir, until, type RunningAgent } from "./test-support.ts";

const REST: IpcGeneratePayload = {
  prompt: "Create a REST API for user management",
  requirements: { language: "python", framework: null, entry_file: "main.py", summary: "", source: "rules" },
  metadata: {},
};

async function rejection(promise: Promise<unknown>): Promise<IpcError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the promise to reject");
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof IpcError)) throw error;
  return error;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function agentOn(socketPath?: string, env: Record<string, string> = {}): Promise<RunningAgent> {
  const agent = await startAgent(socketPath === undefined ? { env } : { env, socketPath });
  cleanups.push(() => agent.stop());
  return agent;
}

function poolOn(socketPath: string): IpcPool {
  const pool = new IpcPool({ socketPath, healthIntervalMs: 100, reconnectBaseMs: 20, reconnectCapMs: 200 });
  cleanups.push(() => pool.close());
  return pool;
}

describe("IpcPool when the agent goes away", () => {
  it("fails the request in flight (retryable) when the agent dies, and works again once it is back", async () => {
    const first = await agentOn(undefined, { ATOMIC_LLM_OFFLINE_DELAY_MS: "20" });
    const pool = poolOn(first.socketPath);
    const seen: string[] = [];
    pool.onHealthChange((health) => seen.push(health.status));
    pool.start();
    await until(() => pool.health.status === "healthy");

    let chunks = 0;
    const running = rejection(pool.stream("generate", REST, { onChunk: () => (chunks += 1) }));
    await until(() => chunks > 2);
    await first.kill(); // SIGKILL: no goodbye, the socket file stays behind
    const lost = await running;
    expect([lost.code, lost.retryable]).toEqual(["llm_unavailable", true]);

    await until(() => pool.health.status === "unavailable", 2_000);
    const down = await rejection(pool.request("parse", { prompt: "x", metadata: {} }));
    expect([down.code, down.retryable]).toEqual(["llm_unavailable", true]);
    expect(down.message).toContain(first.socketPath);

    // A new agent on the same path (it replaces the stale socket file).
    await agentOn(first.socketPath);
    expect(await pool.request("parse", { prompt: "Hello World in Python", metadata: {} })).toMatchObject({
      language: "python",
      entry_file: "main.py",
    });
    await until(() => pool.health.status === "healthy", 2_000);
    // A change of detail alone (ENOENT, then ECONNREFUSED) is a change too: compare the statuses it went through.
    expect(seen.filter((status, i) => status !== seen[i - 1])).toEqual(["healthy", "unavailable", "healthy"]);
    // Background reconnection made the lost connection whole again without any request.
    await until(() => pool.stats().backoff === 0, 2_000);
  });

  it("is unavailable, with the reason, when nothing listens", async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pool = poolOn(join(dir, "nobody.sock"));
    expect(await pool.checkHealth()).toEqual({
      status: "unavailable",
      detail: expect.stringContaining("ENOENT"),
    });
    const error = await rejection(pool.request("parse", { prompt: "x", metadata: {} }));
    expect([error.code, error.retryable]).toEqual(["llm_unavailable", true]);
    expect(pool.stats()).toMatchObject({ open: 0, requests: 0 });
  });

  it("turns an agent's graceful stop into a retryable error for the request it could not finish", async () => {
    const agent = await agentOn(undefined, { ATOMIC_LLM_OFFLINE_DELAY_MS: "20", ATOMIC_IPC_DRAIN_MS: "0" });
    const pool = poolOn(agent.socketPath);
    let chunks = 0;
    const running = rejection(pool.stream("generate", REST, { onChunk: () => (chunks += 1) }));
    await until(() => chunks > 0);
    agent.process.kill("SIGTERM");
    const error = await running;
    expect([error.code, error.retryable]).toEqual(["llm_unavailable", true]);
    expect(error.message).toContain("shutting down");
    expect(await agent.exited).toBe(0);
  });
});
