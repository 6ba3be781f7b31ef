import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import type { Draining, Heartbeat, Hello, JobEvent } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, HEALTHY } from "../support/fake-agent.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";
import { RecordingSocket } from "../support/ws.ts";

let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_GRACE_MS: "700", ATOMIC_AGENT_WAIT_MS: "8000", ATOMIC_HEARTBEAT_MS: "1000" });
});
afterAll(async () => edge?.dispose());

// A hello as the edge reads it: `pool` may be left out (older agents do) and defaults.
type HelloFrame = z.input<typeof Hello>;

const CODE = ["```python main.py\n", "print('ok')\n", "```\n"];

async function events(id: string) {
  return parseSse(await (await fetch(`${edge.url}/api/pipelines/${id}/events`)).text());
}

describe("the agent link: who may link", () => {
  it("refuses a missing or wrong token with 401 and no socket", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }, { Authorization: edge.token }] as Array<
      Record<string, string>
    >) {
      const socket = new RecordingSocket(`${edge.wsUrl}/agent/connect`, {
        ...headers,
        "X-Atomic-Agent-Id": "intruder",
      });
      await expect(socket.opened()).rejects.toThrow(/401/);
    }
    const plain = await getJson(`${edge.url}/agent/connect`, { Authorization: `Bearer ${edge.token}` });
    expect(plain.status).toBe(426);
  });

  it("refuses a bad agent id, and a hello naming another agent", async () => {
    const bad = new RecordingSocket(`${edge.wsUrl}/agent/connect`, {
      Authorization: `Bearer ${edge.token}`,
      "X-Atomic-Agent-Id": "no spaces allowed",
    });
    await expect(bad.opened()).rejects.toThrow(/400/);
    const socket = new RecordingSocket(`${edge.wsUrl}/agent/connect`, {
      Authorization: `Bearer ${edge.token}`,
      "X-Atomic-Agent-Id": "agent-a",
    });
    await socket.opened();
    socket.send({
      v: 1,
      type: "hello",
      agent_id: "agent-b",
      version: "t",
      labels: {},
      capacity: { jobs: 1, kinds: ["llm.generate"] },
      running: [],
      health: HEALTHY,
    } satisfies HelloFrame);
    const error = await socket.waitFor((m) => m["type"] === "error");
    expect(error["code"]).toBe("forbidden");
    expect((await socket.waitClosed()).code).toBe(1008);
  });
});

describe("the agent link: frames", () => {
  it("answers malformed frames with an error frame, ignores unknown types, and keeps the link", async () => {
    const socket = new RecordingSocket(`${edge.wsUrl}/agent/connect`, {
      Authorization: `Bearer ${edge.token}`,
      "X-Atomic-Agent-Id": "agent-frames",
    });
    await socket.opened();
    socket.send({ v: 1, type: "heartbeat", health: HEALTHY, load: { running: 0 } } satisfies Heartbeat);
    expect((await socket.waitFor((m) => m["type"] === "error"))["message"]).toContain("hello");
    socket.send("{{{ not json");
    await socket.waitFor((m) => m["type"] === "error" && m["code"] === "invalid_json");
    socket.send({
      v: 1,
      type: "hello",
      agent_id: "agent-frames",
      version: "t",
      labels: {},
      capacity: { jobs: -1, kinds: [] },
      running: [],
      health: HEALTHY,
    });
    const invalid = await socket.waitFor(
      (m) => m["type"] === "error" && m["code"] === "invalid_request" && String(m["message"]).includes("capacity"),
    );
    expect(invalid["message"]).toContain("capacity");
    const before = socket.messages.length;
    socket.send({ v: 1, type: "some.future.frame", anything: true });
    socket.send({
      v: 1,
      type: "hello",
      agent_id: "agent-frames",
      version: "t",
      labels: {},
      capacity: { jobs: 1, kinds: ["llm.generate"] },
      running: [],
      health: HEALTHY,
    } satisfies HelloFrame);
    await socket.waitFor((m) => m["type"] === "welcome", 5000, before);
    expect(socket.messages.slice(before).filter((m: any) => m.type === "error")).toEqual([]);
    socket.send({ v: 1, type: "heartbeat", health: HEALTHY, load: { running: 0 } } satisfies Heartbeat);
    await socket.waitFor((m) => m["type"] === "heartbeat.ack");
    socket.close();
  });
});

describe("the agent link: jobs", () => {
  it("assign → events → result, with duplicate events and results ignored", async () => {
    const agent = await FakeAgent.link(edge, { id: "agent-dup" });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "dedupe", async: true });
    const job = await agent.nextJob();
    agent.token(job, 1, "```python main.py\n");
    agent.token(job, 1, "```python main.py\n");
    agent.token(job, 2, "print(1)\n");
    agent.token(job, 1, "```python main.py\n");
    agent.token(job, 3, "```\n");
    await agent.socket.waitFor((m) => m["type"] === "ack" && m["seq"] === 3);
    const acks = agent.socket.messages.filter((m: any) => m.type === "ack").map((m: any) => m.seq);
    expect(acks).toEqual([1, 1, 2, 2, 3]);
    const result = { chars: "```python main.py\nprint(1)\n```\n".length, finish_reason: "stop", provider: "t" };
    agent.result(job, 3, result);
    agent.result(job, 3, result);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const chunks = (await events(res.body.pipeline_id)).filter((e) => e.event === "chunk");
    expect(chunks.map((c) => c.data.delta).join("")).toBe("```python main.py\nprint(1)\n```\n");
    await until(
      async () => agent.socket.messages.filter((m: any) => m.type === "ack" && m.result === true).length,
      (n) => n === 2,
    );
    agent.close();
  });

  it("names the job of a frame it refuses, and takes the failure result the agent sends in its place", async () => {
    const agent = await FakeAgent.link(edge, { id: "agent-oversize", kinds: ["sandbox.execute"], docker: true });
    const pending = postJson(`${edge.url}/api/execute`, { language: "shell", code: "true" });
    const job = await agent.nextJob("sandbox.execute");
    // 100,000 NULs are 600,000 bytes as JSON: over the frame limit, though far fewer characters.
    agent.result(job, 0, {
      exit_code: 0,
      signal: null,
      stdout: "\0".repeat(100_000),
      stderr: "",
      truncated: false,
      timed_out: false,
      oom_killed: false,
      duration_ms: 1,
    });
    const tooLarge = await agent.socket.waitFor((m) => m["type"] === "error" && m["code"] === "payload_too_large");
    expect(tooLarge).toMatchObject({ job_id: job.job_id, attempt: job.attempt });
    agent.socket.send({
      v: 1,
      type: "job.event",
      job_id: job.job_id,
      attempt: job.attempt,
      seq: 1,
      event: { kind: "progress", message: "x".repeat(2_000) },
    } satisfies JobEvent);
    const badShape = await agent.socket.waitFor((m) => m["type"] === "error" && m["code"] === "invalid_request");
    expect(badShape).toMatchObject({ job_id: job.job_id, attempt: job.attempt });
    expect(badShape["message"]).toContain("event.message");
    agent.fail(job, "agent_error", "the edge refused a frame of this job", false);
    const answer = await pending;
    expect(answer.status, JSON.stringify(answer.body)).toBe(502);
    expect(answer.body.error).toMatchObject({ code: "agent_error", message: "the edge refused a frame of this job" });
    agent.close();
  });

  it("acks away and cancels a job the agent was never given", async () => {
    const agent = await FakeAgent.link(edge, { id: "agent-liar" });
    agent.socket.send({
      v: 1,
      type: "job.event",
      job_id: "someone-elses/generating",
      attempt: 1,
      seq: 1,
      event: { kind: "token", text: "x" },
    } satisfies JobEvent);
    await agent.socket.waitFor((m) => m["type"] === "job.cancel" && m["job_id"] === "someone-elses/generating");
    agent.close();
  });

  it("places a job again with attempt + 1 on a live agent when its agent vanishes past the grace period", async () => {
    const doomed = await FakeAgent.link(edge, { id: "agent-doomed", capacity: 1 });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "survive a dead host", async: true });
    const first = await doomed.nextJob();
    doomed.token(first, 1, "half a progr");
    await doomed.socket.waitFor((m) => m["type"] === "ack" && m["seq"] === 1);
    doomed.kill();
    const rescuer = await FakeAgent.link(edge, { id: "agent-rescuer" });
    const second = await rescuer.nextJob("llm.generate", 8000);
    expect(second.job_id).toBe(first.job_id);
    expect(second.attempt).toBe(first.attempt + 1);
    rescuer.generate(second, CODE);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(view.body.stages.find((s: any) => s.stage === "GENERATING").attempts).toBe(2);
    const list = await events(res.body.pipeline_id);
    expect(list.map((e) => e.data.seq)).toEqual(list.map((_, i) => i + 1));
    const trail = list.filter((e) => e.event === "stage" && e.data.stage === "GENERATING").map((e) => e.data.status);
    expect(trail).toEqual(["started", "restarted", "started", "completed"]);
    expect(list.at(-1)!.data.content).toBe(CODE.join(""));
    rescuer.close();
  });

  it("keeps a job across a reconnect within the grace period and takes the rest of its events", async () => {
    const agent = await FakeAgent.link(edge, { id: "agent-flaky", capacity: 1 });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "flaky network", async: true });
    const job = await agent.nextJob();
    agent.token(job, 1, CODE[0]!);
    await agent.socket.waitFor((m) => m["type"] === "ack" && m["seq"] === 1);
    agent.kill();
    const back = await FakeAgent.link(edge, {
      id: "agent-flaky",
      capacity: 1,
      running: [{ job_id: job.job_id, attempt: job.attempt }],
    });
    const welcome = back.socket.messages.find((m: any) => m.type === "welcome") as any;
    expect(welcome.acked).toEqual([{ job_id: job.job_id, attempt: job.attempt, seq: 1 }]);
    expect(welcome.cancel).toEqual([]);
    back.token(job, 1, CODE[0]!); // resent: already stored
    back.token(job, 2, CODE[1]!);
    back.token(job, 3, CODE[2]!);
    back.result(job, 3, { chars: CODE.join("").length, finish_reason: "stop", provider: "t" });
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const chunks = (await events(res.body.pipeline_id)).filter((e) => e.event === "chunk" && !e.data.is_final);
    expect(chunks.map((c) => c.data.delta)).toEqual(CODE);
    back.close();
  });

  it("tells a returning agent to cancel jobs the edge no longer wants", async () => {
    const agent = await FakeAgent.link(edge, {
      id: "agent-stale",
      running: [{ job_id: "long-gone/generating", attempt: 3 }],
    });
    const welcome = agent.socket.messages.find((m: any) => m.type === "welcome") as any;
    expect(welcome.cancel).toEqual([{ job_id: "long-gone/generating", attempt: 3 }]);
    agent.close();
  });

  it("replaces an older connection of the same agent cleanly", async () => {
    const first = await FakeAgent.link(edge, { id: "agent-twin" });
    const second = await FakeAgent.link(edge, { id: "agent-twin" });
    const closed = await first.socket.waitClosed();
    expect(closed.code).toBe(4000);
    second.socket.send({ v: 1, type: "heartbeat", health: HEALTHY, load: { running: 0 } } satisfies Heartbeat);
    await second.socket.waitFor((m) => m["type"] === "heartbeat.ack");
    const status = await getJson(`${edge.url}/api/status`);
    expect(status.body.agents.filter((a: any) => a.agent_id === "agent-twin" && a.connected)).toHaveLength(1);
    second.close();
  });

  it("sends no new job to a draining agent", async () => {
    const status0 = await getJson(`${edge.url}/api/status`);
    for (const a of status0.body.agents) expect(a.running).toBe(0);
    const drainer = await FakeAgent.link(edge, { id: "agent-drainer", capacity: 5 });
    drainer.socket.send({ v: 1, type: "draining" } satisfies Draining);
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.agents.some((a: any) => a.agent_id === "agent-drainer" && a.draining),
    );
    const worker = await FakeAgent.link(edge, { id: "agent-worker", capacity: 5 });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "not for the drainer", async: true });
    const job = await worker.nextJob();
    worker.generate(job, CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(drainer.socket.messages.filter((m: any) => m.type === "job.assign")).toEqual([]);
    drainer.close();
    worker.close();
  });
});

describe("the agent link: a pipeline's next job", () => {
  const PARSED = { language: "python", framework: null, entry_file: "main.py", summary: "next job" };

  /** Waits until /api/status counts `expected[i]` running jobs on agent `ids[i]`. */
  async function untilRunning(ids: string[], expected: number[]): Promise<void> {
    await until(
      async () => {
        const status = await getJson(`${edge.url}/api/status`);
        return ids.map((id) => status.body.agents.find((a: any) => a.agent_id === id)?.running ?? -1);
      },
      (running) => running.every((n, i) => n === expected[i]),
    );
  }

  /** The pipeline's view once it completed. */
  async function completed(id: string) {
    return until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );
  }

  it("stays with the agent that ran the previous job, and the pipeline's slot moves with it", async () => {
    // Linked first, and as idle as the other: the scheduler alone would give it the generate job.
    const other = await FakeAgent.link(edge, { id: "agent-next-other", kinds: ["llm.generate"] });
    const both = await FakeAgent.link(edge, { id: "agent-next-both", kinds: ["llm.parse", "llm.generate"] });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "stay on one host", async: true });
    const parse = await both.nextJob("llm.parse");
    both.result(parse, 0, PARSED);
    const generate = await both.nextJob("llm.generate");
    expect(generate.pipeline_id).toBe(res.body.pipeline_id);
    await untilRunning([both.id, other.id], [1, 0]);
    both.generate(generate, CODE);
    const view = await completed(res.body.pipeline_id);
    expect(view.body.stages.slice(0, 2).map((s: any) => [s.stage, s.agent_id])).toEqual([
      ["PARSING", both.id],
      ["GENERATING", both.id],
    ]);
    expect(view.body.requirements).toMatchObject({ ...PARSED, source: "agent" });
    await untilRunning([both.id, other.id], [0, 0]);
    expect(other.socket.messages.filter((m: any) => m.type === "job.assign")).toEqual([]);
    both.close();
    other.close();
  });

  it("goes through the scheduler when that agent cannot run it", async () => {
    const parser = await FakeAgent.link(edge, { id: "agent-next-parser", kinds: ["llm.parse"] });
    const generator = await FakeAgent.link(edge, { id: "agent-next-generator", kinds: ["llm.generate"] });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "two hosts", async: true });
    const parse = await parser.nextJob("llm.parse");
    parser.result(parse, 0, PARSED);
    const generate = await generator.nextJob("llm.generate");
    await untilRunning([parser.id, generator.id], [0, 1]);
    generator.generate(generate, CODE);
    const view = await completed(res.body.pipeline_id);
    expect(view.body.stages.slice(0, 2).map((s: any) => s.agent_id)).toEqual([parser.id, generator.id]);
    expect(parser.socket.messages.filter((m: any) => m.type === "job.assign")).toHaveLength(1);
    parser.close();
    generator.close();
  });

  it("is cancelled at its agent when the pipeline is cancelled right after the hand-over", async () => {
    const agent = await FakeAgent.link(edge, { id: "agent-next-cancel", kinds: ["llm.parse", "llm.generate"] });
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "cancel the next job", async: true });
    const parse = await agent.nextJob("llm.parse");
    agent.result(parse, 0, PARSED);
    const generate = await agent.nextJob("llm.generate");
    const cancelled = await postJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}/cancel`, {});
    expect(cancelled.body.state).toBe("CANCELLED");
    const cancel = await agent.socket.waitFor((m) => m["type"] === "job.cancel" && m["job_id"] === generate.job_id);
    expect(cancel["attempt"]).toBe(generate.attempt);
    await untilRunning([agent.id], [0]);
    agent.close();
  });
});
