import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobContext, JobHandler } from "../../host-agent/src/jobs/job-runner.ts";
import { Backoff } from "../../host-agent/src/link/backoff.ts";
import { freePort, startEdge, type EdgeHandle } from "../support/edge.ts";
import { linkRunner } from "../support/link-runner.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A generate handler the test steers: it streams what the test pushes and ends when told. */
class Scripted {
  contexts: JobContext[] = [];
  #release = new Map<string, () => void>();
  handler: JobHandler = async (ctx) => {
    this.contexts.push(ctx);
    await new Promise<void>((resolve, reject) => {
      this.#release.set(ctx.job.job_id, resolve);
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
    });
    const text = this.sent.get(ctx.job.job_id) ?? "";
    return { chars: text.length, finish_reason: "stop", provider: "scripted" };
  };
  sent = new Map<string, string>();
  push(ctx: JobContext, text: string): void {
    this.sent.set(ctx.job.job_id, (this.sent.get(ctx.job.job_id) ?? "") + text);
    ctx.token(text);
  }
  finish(ctx: JobContext): void {
    this.#release.get(ctx.job.job_id)?.();
  }
  async next(count: number): Promise<JobContext> {
    await until(
      async () => this.contexts.length,
      (n) => n >= count,
    );
    return this.contexts[count - 1]!;
  }
}

function agentOn(
  edge: { url: string; token: string },
  scripted: Scripted,
  id = `link-${Math.random().toString(36).slice(2, 8)}`,
) {
  const { link, runner } = linkRunner(edge, scripted.handler, {
    agentId: id,
    capacity: 4,
    backoff: new Backoff({ baseMs: 50, capMs: 400 }),
  });
  link.start();
  cleanups.push(() => link.close());
  return { link, runner };
}

async function events(edge: EdgeHandle, id: string) {
  return parseSse(await (await fetch(`${edge.url}/api/pipelines/${id}/events`)).text());
}

describe("the link client against the real edge", () => {
  it("links, runs a job, and streams its tokens", async () => {
    const edge = await startEdge();
    cleanups.push(() => edge.dispose());
    const scripted = new Scripted();
    const { link } = agentOn(edge, scripted);
    expect(await link.waitLinked(10_000)).toBe(true);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "linked", async: true });
    const ctx = await scripted.next(1);
    scripted.push(ctx, "```python main.py\n");
    scripted.push(ctx, "print(1)\n```\n");
    scripted.finish(ctx);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(view.body.content_chars).toBe("```python main.py\nprint(1)\n```\n".length);
    await until(
      async () => link.unacked,
      (n) => n === 0,
    );
  });

  it("keeps what the edge did not ack while it is down, resends it after the edge restarts, and the edge stores it once", async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), "atomic-link-state-"));
    cleanups.push(() => rmSync(state, { recursive: true, force: true }));
    const vars = { ATOMIC_AGENT_TOKEN: "restart-token", ATOMIC_AGENT_GRACE_MS: "60000" };
    let edge = await startEdge(vars, state, port);
    const scripted = new Scripted();
    const { link } = agentOn(edge, scripted, "agent-restart");
    await link.waitLinked(10_000);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "survive an edge restart", async: true });
    const ctx = await scripted.next(1);
    scripted.push(ctx, "```python main.py\n");
    await until(
      async () => link.unacked,
      (n) => n === 0,
    );
    await edge.dispose();
    scripted.push(ctx, "print('written while the edge was down')\n");
    scripted.push(ctx, "```\n");
    scripted.finish(ctx);
    await until(
      async () => link.unacked,
      (n) => n === 3,
    );
    expect(link.linked).toBe(false);
    edge = await startEdge(vars, state, port);
    cleanups.push(() => edge.dispose());
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
      20_000,
    );
    const text = "```python main.py\nprint('written while the edge was down')\n```\n";
    expect(view.body.content_chars).toBe(text.length);
    const list = await events(edge, res.body.pipeline_id);
    const chunks = list.filter((e) => e.event === "chunk" && !e.data.is_final).map((e) => e.data.delta);
    expect(chunks.join("")).toBe(text);
    expect(list.map((e) => e.data.seq)).toEqual(list.map((_, i) => i + 1));
    await until(
      async () => link.unacked,
      (n) => n === 0,
    );
  });

  it("obeys job.cancel: the running job's signal fires and nothing more is sent", async () => {
    const edge = await startEdge();
    cleanups.push(() => edge.dispose());
    const scripted = new Scripted();
    const { link, runner } = agentOn(edge, scripted);
    await link.waitLinked(10_000);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "cancel me", async: true });
    const ctx = await scripted.next(1);
    expect(runner.running()).toHaveLength(1);
    await postJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}/cancel`, {});
    await until(
      async () => ctx.signal.aborted,
      (aborted) => aborted,
    );
    await until(
      async () => runner.running().length,
      (n) => n === 0,
    );
    expect(link.unacked).toBe(0);
  });

  it("drains: the edge stops sending it work, its running job finishes and is acked, then the link closes", async () => {
    const edge = await startEdge();
    cleanups.push(() => edge.dispose());
    const scripted = new Scripted();
    const { link, runner } = agentOn(edge, scripted, "agent-drain");
    await link.waitLinked(10_000);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "finish before you go", async: true });
    const ctx = await scripted.next(1);
    link.drain();
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.agents.some((a: any) => a.agent_id === "agent-drain" && a.draining),
    );
    const draining = runner.drain(10_000);
    scripted.push(ctx, "```python main.py\nprint(2)\n```\n");
    scripted.finish(ctx);
    expect(await draining).toEqual({ finished: 1, handedBack: 0 });
    expect(await link.flushed(5_000)).toBe(true);
    await link.close();
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(view.body.state).toBe("COMPLETED");
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.agents.every((a: any) => a.agent_id !== "agent-drain" || !a.connected),
    );
  });

  it("fails a job whose frame is over the limit instead of holding it, and stops the job", async () => {
    const edge = await startEdge();
    cleanups.push(() => edge.dispose());
    const scripted = new Scripted();
    const { link, runner } = agentOn(edge, scripted);
    await link.waitLinked(10_000);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "too large to send", async: true });
    const ctx = await scripted.next(1);
    scripted.push(ctx, "```python main.py\n");
    // 100,000 NULs: 600,000 bytes as JSON, over the 524,288-byte frame limit.
    ctx.emit({ kind: "token", text: "\0".repeat(100_000) });
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
    );
    expect(view.body.error).toMatchObject({ code: "agent_error" });
    expect(view.body.error.message).toContain("over the agent-link limit of 524288");
    expect(ctx.signal.aborted).toBe(true);
    await until(
      async () => runner.running().length + link.unacked,
      (n) => n === 0,
    );
  });

  it("fails a job one of whose frames the edge refused instead of sending it again", async () => {
    const edge = await startEdge();
    cleanups.push(() => edge.dispose());
    const scripted = new Scripted();
    const { link, runner } = agentOn(edge, scripted);
    await link.waitLinked(10_000);
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "refused", async: true });
    const ctx = await scripted.next(1);
    // Small enough to send, but the edge takes progress notes of at most 1024 characters.
    ctx.emit({ kind: "progress", message: "x".repeat(2_000) });
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "FAILED",
    );
    expect(view.body.error).toMatchObject({ code: "agent_error" });
    expect(view.body.error.message).toContain("the edge refused a frame of this job: invalid_request");
    expect(ctx.signal.aborted).toBe(true);
    await until(
      async () => runner.running().length + link.unacked,
      (n) => n === 0,
    );
  });

  it("keeps trying while no edge answers, and links once one does", async () => {
    const port = await freePort();
    const scripted = new Scripted();
    const { link } = agentOn({ url: `http://127.0.0.1:${port}`, token: "late-token" }, scripted);
    await new Promise((r) => setTimeout(r, 600));
    expect(link.linked).toBe(false);
    const edge = await startEdge({ ATOMIC_AGENT_TOKEN: "late-token" }, undefined, port);
    cleanups.push(() => edge.dispose());
    expect(await link.waitLinked(10_000)).toBe(true);
  });
});
