import { readFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { JobContext, JobHandler } from "../../host-agent/src/jobs/job-runner.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { linkRunner } from "../support/link-runner.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents, type Proc } from "../support/processes.ts";

/**
 * Issue 15, item 7: the host-agent's outbox of frames the edge has not acked is bounded
 * (ATOMIC_OUTBOX_MAX_FRAMES, ATOMIC_OUTBOX_MAX_BYTES). The real host-agent CLI streams a long
 * generation through a TCP proxy the test takes down mid-stream: the outbox fills to its bound,
 * the job is handed back instead of memory growing, and once the edge is reachable again the
 * pipeline runs the job again (attempt + 1) and ends COMPLETED with nothing lost or doubled.
 */
const MAX_FRAMES = 16;
const PROGRAM = "```python main.py\nprint(2)\n```\n";
const SLOW_PROMPT = { prompt: "Build a REST API for user management in Python", async: true };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP proxy to the edge that can go down (open connections destroyed, new ones refused) and up. */
class OutageProxy {
  readonly url: string;
  readonly #server: Server;
  readonly #state: { down: boolean; live: Set<Socket>; stalled: Set<Socket> };

  private constructor(server: Server, port: number, state: { down: boolean; live: Set<Socket>; stalled: Set<Socket> }) {
    this.#server = server;
    this.#state = state;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(target: string): Promise<OutageProxy> {
    const { hostname, port } = new URL(target);
    const state = { down: false, live: new Set<Socket>(), stalled: new Set<Socket>() };
    const server = createServer((client) => {
      if (state.down) return void client.destroy();
      const upstream = connect(Number(port), hostname);
      state.live.add(client).add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        state.live.delete(client);
        state.live.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    return new OutageProxy(server, address.port, state);
  }

  down(): void {
    this.#state.down = true;
    for (const socket of this.#state.live) socket.destroy();
    this.#state.live.clear();
  }

  up(): void {
    this.#state.down = false;
  }

  /**
   * A half-open network: open connections stay open but nothing crosses them any more (what
   * arrives is read and dropped); new connections flow.
   */
  stall(): void {
    for (const socket of this.#state.live) {
      socket.unpipe();
      socket.on("data", () => undefined);
      this.#state.stalled.add(socket);
    }
    this.#state.live.clear();
  }

  async close(): Promise<void> {
    this.down();
    for (const socket of this.#state.stalled) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The host-agent's JSON log lines with this message. */
function logLines(proc: Proc, msg: string): Array<Record<string, unknown>> {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((line) => line["msg"] === msg);
}

function rssKiB(pid: number | undefined): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

async function setUp(edgeVars: Record<string, string> = {}) {
  const edge: EdgeHandle = await startEdge({
    // The edge would hand the job back itself after the grace period: make it long, so that
    // it is the outbox's bound that acts.
    ATOMIC_AGENT_GRACE_MS: "120000",
    ATOMIC_AGENT_WAIT_MS: "30000",
    ...edgeVars,
  });
  cleanups.push(() => edge.dispose());
  const proxy = await OutageProxy.start(edge.url);
  cleanups.push(() => proxy.close());
  const py = await startPythonAgent({ ATOMIC_LLM_OFFLINE_DELAY_MS: "10" });
  cleanups.push(async () => {
    py.proc.kill("SIGKILL");
    await py.proc.exited;
    removeDir(py.dir);
  });
  const agent = startHostAgent(
    { ...edge, url: proxy.url },
    {
      ATOMIC_AGENT_ID: "outbox-bound",
      ATOMIC_IPC_SOCKET: py.socket,
      ATOMIC_SANDBOX: "off",
      ATOMIC_THREADS: "2",
      ATOMIC_LOG_LEVEL: "INFO",
      ATOMIC_OUTBOX_MAX_FRAMES: String(MAX_FRAMES),
    },
  );
  cleanups.push(async () => {
    agent.kill("SIGKILL");
    await agent.exited;
  });
  await waitForAgents(edge, 1);
  const res = await postJson(`${edge.url}/api/generate`, SLOW_PROMPT);
  expect(res.status).toBe(202);
  const id = res.body.pipeline_id as string;
  await until(
    () => getJson(`${edge.url}/api/pipelines/${id}`),
    (r) => r.body.content_chars > 200,
    20_000,
  );
  return { edge, proxy, agent, id };
}

/** The pipeline completed on a later attempt, and its log is whole: contiguous, one result, exactly the last attempt's stream. */
async function checkCompletedAgain(edge: EdgeHandle, id: string): Promise<void> {
  const view = await until(
    () => getJson(`${edge.url}/api/pipelines/${id}`),
    (r) => r.body.state === "COMPLETED" || r.body.state === "FAILED",
    60_000,
    200,
  );
  expect(view.body.state).toBe("COMPLETED");
  expect(view.body.stages.find((s: { stage: string }) => s.stage === "GENERATING").attempts).toBeGreaterThanOrEqual(2);
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
  expect(result.data.content).toBe(streamed);
  expect(streamed.length).toBeGreaterThan(500);
  expect(events.filter((e) => e.event === "result")).toHaveLength(1);
}

describe("the host-agent's bounded outbox", () => {
  it("hands a long stream's job back when the edge is unreachable past the bound; the pipeline still completes once", async () => {
    const { edge, proxy, agent, id } = await setUp();
    const rssBefore = rssKiB(agent.child.pid);
    proxy.down();
    // The stream goes on with nobody to ack it, until the outbox is full and the job handed back.
    await until(
      async () => logLines(agent, "outbox full; handing a job back"),
      (lines) => lines.length > 0,
      20_000,
      100,
    );
    const rssDuring = rssKiB(agent.child.pid);
    proxy.up();
    await checkCompletedAgain(edge, id);

    // Bounded: when the job was handed back, and every time the link came back, the outbox held
    // at most the bound.
    const handedBack = logLines(agent, "outbox full; handing a job back");
    expect(handedBack[0]).toMatchObject({ linked: false });
    for (const line of handedBack) expect(Number(line["unacked"])).toBeLessThanOrEqual(MAX_FRAMES);
    const relinked = logLines(agent, "linked to the edge");
    expect(relinked.length).toBeGreaterThanOrEqual(2);
    for (const line of relinked) expect(Number(line["resending"])).toBeLessThanOrEqual(MAX_FRAMES);
    console.log(
      `[outbox] handed back ${handedBack.length}x; agent RSS ${rssBefore} KiB before the outage, ${rssDuring} KiB at the hand-back`,
    );
  }, 120_000);

  it("a half-open link (nothing acked, nothing closed): the job is handed back while the agent still counts as linked", async () => {
    // Short heartbeats, so that both ends notice the dead link soon.
    const { edge, proxy, agent, id } = await setUp({ ATOMIC_HEARTBEAT_MS: "1000" });
    proxy.stall();
    const handedBack = await until(
      async () => logLines(agent, "outbox full; handing a job back"),
      (lines) => lines.length > 0,
      20_000,
      100,
    );
    // Linked as far as the agent knew: it said so to the edge at once (a job.rejected the stalled
    // link swallowed), and again after the next welcome.
    expect(handedBack[0]).toMatchObject({ linked: true });
    expect(Number(handedBack[0]!["unacked"])).toBeLessThanOrEqual(MAX_FRAMES);
    await checkCompletedAgain(edge, id);
    expect(logLines(agent, "the edge stopped answering; reconnecting").length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("a burst past the bound while linked: the job is handed back at once (job.rejected) and runs again", async () => {
    const edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "30000" });
    cleanups.push(() => edge.dispose());
    const contexts: JobContext[] = [];
    const release = new Map<number, () => void>();
    const handler: JobHandler = async (ctx) => {
      contexts.push(ctx);
      await new Promise<void>((resolve, reject) => {
        release.set(ctx.job.attempt, resolve);
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
      return { chars: ctx.job.attempt === 1 ? 0 : PROGRAM.length, finish_reason: "stop", provider: "burst" };
    };
    const { link } = linkRunner(edge, handler, {
      agentId: "outbox-burst",
      capacity: 2,
      outbox: { maxFrames: MAX_FRAMES, maxBytes: 1 << 20 },
    });
    link.start();
    cleanups.push(() => link.close());
    expect(await link.waitLinked(10_000)).toBe(true);

    const res = await postJson(`${edge.url}/api/generate`, { prompt: "a burst", async: true });
    await until(
      async () => contexts.length,
      (n) => n >= 1,
    );
    const first = contexts[0]!;
    // More frames in one tick than the outbox holds: no ack can come back in between.
    for (let i = 0; i < MAX_FRAMES * 2; i++) first.emit({ kind: "token", text: `t${i} ` });
    expect(first.signal.aborted).toBe(true);
    expect(link.unacked).toBeLessThanOrEqual(MAX_FRAMES);
    // The edge heard of it at once and placed it again, here (the only agent): attempt 2.
    await until(
      async () => contexts.length,
      (n) => n >= 2,
    );
    const second = contexts[1]!;
    expect(second.job.attempt).toBe(first.job.attempt + 1);
    second.emit({ kind: "token", text: PROGRAM });
    release.get(second.job.attempt)?.();
    const view = await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED" || r.body.state === "FAILED",
    );
    expect(view.body.state).toBe("COMPLETED");
    expect(view.body.content_chars).toBe(PROGRAM.length);
    expect(view.body.stages.find((st: { stage: string }) => st.stage === "GENERATING").attempts).toBe(2);
  });
});
