import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startEdge, type EdgeHandle } from "../support/edge.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents, type Proc } from "../support/processes.ts";

/**
 * Faults with real processes: kill a host-agent, the Python agent, or the edge itself in the
 * middle of a stream, then read the affected pipeline's whole event log. Each test prints how long
 * the pipeline took to recover (measured, never asserted: these machines are shared).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function stop(proc: Proc): () => Promise<void> {
  return async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  };
}

async function python(env: Record<string, string> = {}, dir?: string) {
  const agent = await startPythonAgent({ ATOMIC_LLM_OFFLINE_DELAY_MS: "5", ...env }, dir);
  cleanups.push(stop(agent.proc));
  return agent;
}

function hostAgent(edge: EdgeHandle, socket: string, id: string): Proc {
  const proc = startHostAgent(edge, {
    ATOMIC_AGENT_ID: id,
    ATOMIC_IPC_SOCKET: socket,
    ATOMIC_SANDBOX: "off",
    ATOMIC_THREADS: "2",
  });
  cleanups.push(stop(proc));
  return proc;
}

/** Checks the log a client would replay: contiguous seq, and the final content is the last attempt's stream. */
async function checkLog(edge: EdgeHandle, id: string) {
  const events = parseSse(await (await fetch(`${edge.url}/api/pipelines/${id}/events`)).text());
  expect(events.map((e) => e.data.seq)).toEqual(events.map((_, i) => i + 1));
  const lastStart = events
    .map((e) => e.event === "stage" && e.data.stage === "GENERATING" && e.data.status === "started")
    .lastIndexOf(true);
  const streamed = events
    .slice(lastStart)
    .filter((e) => e.event === "chunk" && !e.data.is_final)
    .map((e) => e.data.delta)
    .join("");
  const result = events.at(-1)!;
  expect(result.event).toBe("result");
  expect(result.data.state).toBe("COMPLETED");
  expect(result.data.content).toBe(streamed);
  expect(streamed.length).toBeGreaterThan(100);
  return events;
}

const SLOW_PROMPT = { prompt: "Build a REST API for user management in Python", async: true };

describe("faults survived, nothing lost or doubled", () => {
  it("a host-agent killed (SIGKILL) mid-stream: the job is placed again with attempt + 1 on a live agent", async () => {
    const edge = await startEdge({ ATOMIC_AGENT_GRACE_MS: "1000", ATOMIC_AGENT_WAIT_MS: "20000" });
    cleanups.push(() => edge.dispose());
    const py = await python();
    cleanups.push(() => removeDir(py.dir));
    const agents = new Map([
      ["fault-a", hostAgent(edge, py.socket, "fault-a")],
      ["fault-b", hostAgent(edge, py.socket, "fault-b")],
    ]);
    await waitForAgents(edge, 2);
    const res = await postJson(`${edge.url}/api/generate`, SLOW_PROMPT);
    const id = res.body.pipeline_id as string;
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.content_chars > 200,
    );
    const status = await getJson(`${edge.url}/api/status`);
    const busy = status.body.agents.find((a: any) => a.running > 0).agent_id as string;
    const killedAt = Date.now();
    agents.get(busy)!.kill("SIGKILL");
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.stages.find((s: any) => s.stage === "GENERATING").attempts === 2,
      30_000,
    );
    console.log(
      `[fault] host-agent killed: the stage restarted on a live agent ${Date.now() - killedAt} ms later (grace 1000 ms)`,
    );
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
      60_000,
    );
    console.log(`[fault] host-agent killed: pipeline completed ${Date.now() - killedAt} ms later (grace 1000 ms)`);
    const generating = view.body.stages.find((s: any) => s.stage === "GENERATING");
    expect(generating.attempts).toBe(2);
    expect(generating.agent_id).not.toBe(busy);
    const events = await checkLog(edge, id);
    expect(events.some((e) => e.event === "stage" && e.data.status === "restarted")).toBe(true);
  });

  it("the Python agent killed mid-stream: a retryable error, the agent comes back, the stage runs again", async () => {
    const edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "30000", ATOMIC_STAGE_RETRIES: "2" });
    cleanups.push(() => edge.dispose());
    const dir = mkdtempSync(join(tmpdir(), "atomic-py-restart-"));
    cleanups.push(() => removeDir(dir));
    const first = await startPythonAgent({ ATOMIC_LLM_OFFLINE_DELAY_MS: "5" }, dir);
    hostAgent(edge, first.socket, "fault-py");
    await waitForAgents(edge, 1);
    const res = await postJson(`${edge.url}/api/generate`, SLOW_PROMPT);
    const id = res.body.pipeline_id as string;
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.content_chars > 200,
    );
    const killedAt = Date.now();
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    await until(
      () => getJson(`${edge.url}/health`),
      (r) => r.body.llm_agent !== "healthy",
      10_000,
    );
    expect((await getJson(`${edge.url}/api/pipelines/${id}`)).body.state).toBe("GENERATING");
    const restartedAt = Date.now();
    await python({}, dir);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.stages.find((s: any) => s.stage === "GENERATING").attempts === 2,
      30_000,
    );
    console.log(
      `[fault] Python agent killed: the stage ran again ${Date.now() - restartedAt} ms after the agent was started again`,
    );
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
      60_000,
    );
    console.log(
      `[fault] Python agent killed and restarted: pipeline completed ${Date.now() - killedAt} ms after the kill`,
    );
    expect(view.body.stages.find((s: any) => s.stage === "GENERATING").attempts).toBe(2);
    const events = await checkLog(edge, id);
    expect(
      events.some(
        (e) =>
          e.event === "stage" && e.data.status === "retrying" && String(e.data.reason).startsWith("llm_unavailable"),
      ),
    ).toBe(true);
  });

  it("the edge restarted on the same state: running pipelines resume, finished ones stay readable, host-agents relink", async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), "atomic-edge-restart-"));
    cleanups.push(() => removeDir(state));
    const vars = { ATOMIC_AGENT_TOKEN: "restart-token", ATOMIC_AGENT_GRACE_MS: "30000", ATOMIC_AGENT_WAIT_MS: "30000" };
    let edge = await startEdge(vars, state, port);
    const py = await python();
    cleanups.push(() => removeDir(py.dir));
    hostAgent(edge, py.socket, "fault-edge");
    await waitForAgents(edge, 1);
    const done = await postJson(`${edge.url}/api/generate`, { prompt: "Hello World in Python" });
    expect(done.status).toBe(200);
    const res = await postJson(`${edge.url}/api/generate`, SLOW_PROMPT);
    const id = res.body.pipeline_id as string;
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.content_chars > 200,
    );
    const stoppedAt = Date.now();
    await edge.dispose();
    edge = await startEdge(vars, state, port);
    cleanups.push(() => edge.dispose());
    const before = (await getJson(`${edge.url}/api/pipelines/${id}`)).body.content_chars as number;
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.content_chars > before || r.body.state === "COMPLETED",
      30_000,
    );
    console.log(`[fault] edge restarted: the stream went on ${Date.now() - stoppedAt} ms after the edge stopped`);
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
      60_000,
    );
    console.log(`[fault] edge restarted: pipeline completed ${Date.now() - stoppedAt} ms after the edge stopped`);
    expect(view.body.state).toBe("COMPLETED");
    await checkLog(edge, id);
    const old = await getJson(`${edge.url}/api/pipelines/${done.body.pipeline_id}`);
    expect(old.body).toMatchObject({ state: "COMPLETED", content_chars: done.body.content.length });
    const file = await fetch(
      `${edge.url}/api/pipelines/${done.body.pipeline_id}/artifacts/${done.body.artifacts.files[0].path}`,
    );
    expect(file.status).toBe(200);
    await waitForAgents(edge, 1);
  });

  it("the edge restarted right after pipelines finished: nothing runs again, and the link's table of jobs empties", async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), "atomic-edge-finished-"));
    cleanups.push(() => removeDir(state));
    const vars = { ATOMIC_AGENT_TOKEN: "finished-token", ATOMIC_HEARTBEAT_MS: "500" };
    let edge = await startEdge(vars, state, port);
    const py = await python();
    cleanups.push(() => removeDir(py.dir));
    hostAgent(edge, py.socket, "fault-finished");
    await waitForAgents(edge, 1);
    const finished: Array<{ id: string; events: number }> = [];
    for (const prompt of ["Hello World in Python", "Hello World in JavaScript"]) {
      const res = await postJson(`${edge.url}/api/generate`, { prompt });
      expect(res.body.state).toBe("COMPLETED");
      const events = parseSse(await (await fetch(`${edge.url}/api/pipelines/${res.body.pipeline_id}/events`)).text());
      finished.push({ id: res.body.pipeline_id, events: events.length });
    }
    // At once: the link has not written since the last job ended, so its row is still on disk.
    await edge.dispose();
    edge = await startEdge(vars, state, port);
    cleanups.push(() => edge.dispose());
    await waitForAgents(edge, 1);
    const next = await postJson(`${edge.url}/api/generate`, { prompt: "Hello World in Python" });
    expect(next.body.state).toBe("COMPLETED");
    for (const { id, events } of finished) {
      const view = await getJson(`${edge.url}/api/pipelines/${id}`);
      expect(view.body.state).toBe("COMPLETED");
      for (const stage of view.body.stages) expect(stage.attempts).toBe(1);
      const after = parseSse(await (await fetch(`${edge.url}/api/pipelines/${id}/events`)).text());
      expect(after).toHaveLength(events);
    }
    // The link's rows of finished jobs go with its next write; the next heartbeat is one.
    const dir = join(state, "v3", "do", "atomic-orchestrator-AgentLinkDO");
    const database = readdirSync(dir).find((name) => /^[0-9a-f]{64}\.sqlite$/.test(name));
    expect(database).toBeDefined();
    const rows = () =>
      execFileSync("python3", [
        "-c",
        "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM assigned').fetchone()[0])",
        join(dir, database!),
      ])
        .toString()
        .trim();
    await until(
      async () => rows(),
      (n) => n === "0",
      10_000,
      200,
    );
  });
});
