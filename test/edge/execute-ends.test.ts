import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

// A short slack, so a run's deadline (timeout_seconds + slack, then a 5 s grace) passes in seconds.
let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "600", ATOMIC_EXECUTE_SLACK_MS: "500" });
});
afterAll(async () => edge?.dispose());

async function runningOn(agentId: string): Promise<number> {
  const status = await getJson(`${edge.url}/api/status`);
  const agent = status.body.agents.find((a: { agent_id: string }) => a.agent_id === agentId);
  return agent?.running ?? -1;
}

describe("how an /api/execute run ends", () => {
  it("answers a run whose host-agent never answers with a timeout, cancels its job and frees its slot", async () => {
    const agent = await FakeAgent.link(edge, {
      id: "silent-host",
      kinds: ["sandbox.execute"],
      docker: true,
      capacity: 1,
    });
    const started = Date.now();
    const pending = postJson(`${edge.url}/api/execute`, {
      language: "python",
      code: "print(1+1)",
      limits: { timeout_seconds: 0.5 },
    });
    const job = await agent.nextJob("sandbox.execute");
    expect(job.deadline_ms).toBe(1_000);
    expect(await runningOn("silent-host")).toBe(1);
    // The agent never answers.
    const answer = await pending;
    expect(answer.status, JSON.stringify(answer.body)).toBe(504);
    expect(answer.body.error.code).toBe("timeout");
    expect(answer.body.error.message).toContain("1000 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await agent.socket.waitFor((m) => m["type"] === "job.cancel" && m["job_id"] === job.job_id);
    expect(await runningOn("silent-host")).toBe(0);
    // The freed slot (the agent's only one) takes the next run.
    const next = postJson(`${edge.url}/api/execute`, { language: "python", code: "print(1+1)" });
    agent.result(await agent.nextJob("sandbox.execute"), 0, SANDBOX_RESULT);
    expect((await next).status).toBe(200);
    agent.close();
  }, 20_000);

  it("counts runs by outcome, failed ones by code, with a duration histogram, in /metrics and /api/metrics", async () => {
    const before = await getJson(`${edge.url}/api/metrics`);
    const agent = await FakeAgent.link(edge, { id: "counted-host", kinds: ["sandbox.execute"], docker: true });
    const run = async (answer: (job: Awaited<ReturnType<typeof agent.nextJob>>) => void) => {
      const pending = postJson(`${edge.url}/api/execute`, { language: "shell", code: "true" });
      answer(await agent.nextJob("sandbox.execute"));
      return (await pending).status;
    };
    expect(await run((job) => agent.result(job, 0, SANDBOX_RESULT))).toBe(200);
    expect(await run((job) => agent.result(job, 0, { ...SANDBOX_RESULT, exit_code: 137, timed_out: true }))).toBe(200);
    expect(await run((job) => agent.fail(job, "sandbox_error", "the engine failed", false))).toBe(502);
    expect(await run((job) => agent.fail(job, "sandbox_error", "the engine failed again", false))).toBe(502);
    agent.close();
    // No agent: the run fails with sandbox_unavailable.
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => !r.body.agents.some((a: { connected: boolean }) => a.connected),
    );
    expect((await postJson(`${edge.url}/api/execute`, { language: "shell", code: "true" })).status).toBe(503);

    // Each run reports itself to the scheduler as it is answered, so the counts arrive soon after.
    const was = before.body.executions;
    const grown = (now: typeof was) => ({
      ok: now.ok - was.ok,
      timed_out: now.timed_out - was.timed_out,
      cancelled: now.cancelled - was.cancelled,
      failed: now.failed - was.failed,
      sandbox_error: (now.failed_by_code.sandbox_error ?? 0) - (was.failed_by_code.sandbox_error ?? 0),
      sandbox_unavailable:
        (now.failed_by_code.sandbox_unavailable ?? 0) - (was.failed_by_code.sandbox_unavailable ?? 0),
    });
    const expected = { ok: 1, timed_out: 1, cancelled: 0, failed: 3, sandbox_error: 2, sandbox_unavailable: 1 };
    const metrics = await until(
      () => getJson(`${edge.url}/api/metrics`),
      (r) => JSON.stringify(grown(r.body.executions)) === JSON.stringify(expected),
    );
    const now = metrics.body.executions;
    expect(grown(now)).toEqual(expected);
    expect(now.p50_duration_ms).toBeGreaterThan(0);
    expect(now.average_duration_ms).toBeGreaterThan(0);

    const text = await (await fetch(`${edge.url}/metrics`)).text();
    const sample = (line: string) => {
      const found = text.split("\n").find((l) => l.startsWith(`${line} `));
      if (found === undefined) throw new Error(`no sample ${line} in:\n${text}`);
      return Number(found.slice(line.length + 1));
    };
    expect(text).toContain("# TYPE atomic_executions_total counter");
    expect(sample('atomic_executions_total{pool="default",outcome="ok"}')).toBe(now.ok);
    expect(sample('atomic_executions_total{pool="default",outcome="timed_out"}')).toBe(now.timed_out);
    expect(sample('atomic_executions_total{pool="default",outcome="cancelled"}')).toBe(now.cancelled);
    expect(sample('atomic_executions_total{pool="default",outcome="failed",code="sandbox_error"}')).toBe(
      now.failed_by_code.sandbox_error,
    );
    expect(sample('atomic_executions_total{pool="default",outcome="failed",code="sandbox_unavailable"}')).toBe(
      now.failed_by_code.sandbox_unavailable,
    );
    expect(text).toContain("# TYPE atomic_execution_duration_seconds histogram");
    expect(sample('atomic_execution_duration_seconds_count{pool="default",outcome="ok"}')).toBe(now.ok);
    expect(sample('atomic_execution_duration_seconds_count{pool="default",outcome="failed"}')).toBe(now.failed);
    expect(sample('atomic_execution_duration_seconds_bucket{pool="default",outcome="ok",le="+Inf"}')).toBe(now.ok);
  });
});
