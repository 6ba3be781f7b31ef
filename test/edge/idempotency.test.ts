import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineList } from "../../shared/src/index.ts";
import { freePort, startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * `Idempotency-Key` on `POST /api/generate` and `POST /api/execute`, against the real Worker in
 * workerd with a scripted host-agent: a retry answers with the first request's pipeline or run and
 * says so, another body with the key is refused, concurrent duplicates make one, keys expire and
 * belong to the API key that sent them.
 */
const PROGRAM = "```python main.py\nprint(1)\n```\n";

describe("Idempotency-Key on an open edge", () => {
  let edge: EdgeHandle;
  let agent: FakeAgent;
  beforeAll(async () => {
    edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "1500", ATOMIC_IDEMPOTENCY_TTL_S: "3" });
    agent = await FakeAgent.link(edge, {
      id: "idempotency-agent",
      capacity: 20,
      kinds: ["llm.generate", "export", "sandbox.execute"],
      docker: true,
    });
  });
  afterAll(async () => {
    agent?.close();
    await edge?.dispose();
  });

  const generate = (body: unknown, key: string | null, headers: Record<string, string> = {}) =>
    postJson(`${edge.url}/api/generate`, body, { ...(key === null ? {} : { "Idempotency-Key": key }), ...headers });

  async function pipelinesOfPool(pool: string): Promise<string[]> {
    const list = PipelineList.parse((await getJson(`${edge.url}/api/pipelines?pool=${pool}&limit=100`)).body);
    return list.pipelines.map((p) => p.pipeline_id);
  }

  it("answers a retry with the first request's pipeline, says so, and starts nothing new", async () => {
    const pool = "idem-replay";
    const poolAgent = await FakeAgent.link(edge, { id: "idem-replay-agent", pool });
    const body = { prompt: "one pipeline only", async: true, priority: "high", metadata: { pool, language: "python" } };
    const first = await generate(body, "replay-key-1");
    expect(first.status).toBe(202);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    // The same body, its keys in another order: the same request.
    const reordered = {
      metadata: { language: "python", pool },
      priority: "high",
      async: true,
      prompt: "one pipeline only",
    };
    const retry = await generate(reordered, "replay-key-1");
    expect(retry.status).toBe(202);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.body.pipeline_id).toBe(first.body.pipeline_id);
    expect(retry.body.request_id).not.toBe(first.body.request_id);

    expect(await pipelinesOfPool(pool)).toEqual([first.body.pipeline_id]);
    const firstJob = await poolAgent.nextJob();
    expect(firstJob.pipeline_id).toBe(first.body.pipeline_id);
    poolAgent.generate(firstJob, [PROGRAM]);

    // A synchronous request's retry answers the finished pipeline's result, as the first did.
    const syncBody = { prompt: "a synchronous one", metadata: { pool, language: "python" } };
    const pending = generate(syncBody, "replay-key-sync");
    poolAgent.generate(await poolAgent.nextJob(), [PROGRAM]);
    const syncFirst = await pending;
    expect(syncFirst.status).toBe(200);
    const syncRetry = await generate(syncBody, "replay-key-sync");
    expect(syncRetry.status).toBe(200);
    expect(syncRetry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(syncRetry.body).toMatchObject({
      pipeline_id: syncFirst.body.pipeline_id,
      content: syncFirst.body.content,
      state: "COMPLETED",
    });
    expect(await pipelinesOfPool(pool)).toHaveLength(2);
    poolAgent.close();
  });

  it("refuses the key with another body (422) and an invalid key (400), creating nothing", async () => {
    const pool = "idem-mismatch";
    const body = { prompt: "the first body", async: true, metadata: { pool } };
    expect((await generate(body, "mismatch-key")).status).toBe(202);
    const other = await generate({ ...body, prompt: "another body" }, "mismatch-key");
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(other.body.error.message).toContain("different request");
    for (const bad of ["", "has space", "x".repeat(256), "tab\tkey"]) {
      const refused = await generate(body, bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error.message).toContain("Idempotency-Key");
    }
    expect(await pipelinesOfPool(pool)).toHaveLength(1);
  });

  it("makes one pipeline of concurrent duplicates", async () => {
    const pool = "idem-concurrent";
    const body = { prompt: "sent eight times at once", async: true, metadata: { pool } };
    const answers = await Promise.all(Array.from({ length: 8 }, () => generate(body, "concurrent-key")));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const ids = new Set(answers.map((a) => a.body.pipeline_id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.headers.get("Idempotent-Replayed") === "true")).toHaveLength(7);
    expect(await pipelinesOfPool(pool)).toEqual([...ids]);
  });

  it("forgets a key after ATOMIC_IDEMPOTENCY_TTL_S", async () => {
    const pool = "idem-expiry";
    const body = { prompt: "again after the key expired", async: true, metadata: { pool } };
    const first = await generate(body, "expiring-key");
    await new Promise((r) => setTimeout(r, 3_500));
    const later = await generate(body, "expiring-key");
    expect(later.status).toBe(202);
    expect(later.headers.get("Idempotent-Replayed")).toBeNull();
    expect(later.body.pipeline_id).not.toBe(first.body.pipeline_id);
    // The key holds again from its second first use.
    expect((await generate({ ...body, prompt: "changed" }, "expiring-key")).status).toBe(422);
    expect(await pipelinesOfPool(pool)).toHaveLength(2);
  });

  it("answers a run's retries with its stored result, and one still running after it ends", async () => {
    const request = { language: "python", code: "print(1+1)", limits: { timeout_seconds: 5 } };
    const execute = (body: unknown, key: string) =>
      postJson(`${edge.url}/api/execute`, body, { "Idempotency-Key": key });
    const pending = execute(request, "run-key");
    const job = await agent.nextJob("sandbox.execute");
    // A retry while the run is under way waits for it instead of running it again.
    const concurrent = execute(request, "run-key");
    await new Promise((r) => setTimeout(r, 200));
    agent.result(job, 0, SANDBOX_RESULT);
    const first = await pending;
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ success: true, ...SANDBOX_RESULT });
    const waited = await concurrent;
    expect(waited.status).toBe(200);
    expect(waited.headers.get("Idempotent-Replayed")).toBe("true");
    expect(waited.body).toEqual(first.body);
    const later = await execute(request, "run-key");
    expect(later.body).toEqual(first.body);
    expect(later.headers.get("Idempotent-Replayed")).toBe("true");
    const other = await execute({ ...request, code: "print(2)" }, "run-key");
    expect(other.status).toBe(422);
    // No second job reached the host.
    await expect(agent.nextJob("sandbox.execute", 300)).rejects.toThrow();
  });

  it("frees the key of a run refused before it ran, so its retry runs", async () => {
    const request = { language: "python", code: "print(3)" };
    const refused = await postJson(`${edge.url}/api/execute?pool=idem-nobody`, request, {
      "Idempotency-Key": "refused-run",
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("sandbox_unavailable");
    const poolAgent = await FakeAgent.link(edge, {
      id: "idem-late-agent",
      pool: "idem-nobody",
      kinds: ["sandbox.execute"],
      docker: true,
    });
    const retry = postJson(`${edge.url}/api/execute?pool=idem-nobody`, request, { "Idempotency-Key": "refused-run" });
    poolAgent.result(await poolAgent.nextJob("sandbox.execute"), 0, SANDBOX_RESULT);
    const answer = await retry;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("Idempotent-Replayed")).toBeNull();
    poolAgent.close();
  });
});

describe("Idempotency-Key with API keys", () => {
  let edge: EdgeHandle;
  beforeAll(async () => {
    edge = await startEdge({ ATOMIC_API_KEYS: "idem-key-a,idem-key-b" });
  });
  afterAll(async () => edge?.dispose());

  it("scopes a key to the API key that sent it", async () => {
    const body = { prompt: "same key, two tenants", async: true };
    const as = (apiKey: string) =>
      postJson(`${edge.url}/api/generate`, body, { Authorization: `Bearer ${apiKey}`, "Idempotency-Key": "shared" });
    const a = await as("idem-key-a");
    const b = await as("idem-key-b");
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get("Idempotent-Replayed")).toBeNull();
    expect(b.body.pipeline_id).not.toBe(a.body.pipeline_id);
    const again = await as("idem-key-a");
    expect(again.body.pipeline_id).toBe(a.body.pipeline_id);
    await until(
      () => getJson(`${edge.url}/api/pipelines`, { Authorization: "Bearer idem-key-b" }),
      (r) => r.status === 200 && r.body.pipelines.length === 1,
    );
  });
});

describe("Idempotency-Key when the edge goes down under a run", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-idem-restart-"));
  let edge: EdgeHandle | undefined;
  let agent: FakeAgent | undefined;
  afterAll(async () => {
    agent?.close();
    await edge?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs a lost run's retry anew once the first could no longer answer, then replays that answer", async () => {
    // The first run's longest answer time: 500 ms for an agent, its 1 s, no slack, 5 s for the result.
    const vars = { ATOMIC_AGENT_WAIT_MS: "500", ATOMIC_EXECUTE_SLACK_MS: "0", ATOMIC_AGENT_TOKEN: "idem-restart" };
    const port = await freePort();
    const request = { language: "python", code: "print(1+1)", limits: { timeout_seconds: 1 } };
    const kinds = ["sandbox.execute" as const];
    edge = await startEdge(vars, dir, port);
    agent = await FakeAgent.link(edge, { id: "idem-restart-1", kinds, docker: true });
    const url = `${edge.url}/api/execute`;
    const lost = postJson(url, request, { "Idempotency-Key": "lost-run" }).catch((error: unknown) => error);
    await agent.nextJob("sandbox.execute");
    // The edge and its host-agent go down with the run in flight, and its client with them.
    agent.close();
    await edge.dispose();
    await lost;

    edge = await startEdge(vars, dir, port);
    const second = await FakeAgent.link(edge, { id: "idem-restart-2", kinds, docker: true });
    agent = second;
    // The host-agent runs whatever reaches it; retries before the first run's time is up are told to wait.
    const runs: string[] = [];
    void (async () => {
      for (;;) {
        const job = await second.nextJob("sandbox.execute", 30_000).catch(() => null);
        if (job === null) return;
        runs.push(job.job_id);
        second.result(job, 0, SANDBOX_RESULT);
      }
    })();
    const retried = await until(
      () => postJson(url, request, { "Idempotency-Key": "lost-run" }),
      (answer) => answer.status !== 409,
      30_000,
      250,
    );
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ success: true, ...SANDBOX_RESULT });
    expect(retried.headers.get("Idempotent-Replayed")).toBeNull();
    expect(runs).toHaveLength(1);
    const replayed = await postJson(url, request, { "Idempotency-Key": "lost-run" });
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replayed.body).toEqual(retried.body);
    expect(runs).toHaveLength(1);
  }, 90_000);
});
