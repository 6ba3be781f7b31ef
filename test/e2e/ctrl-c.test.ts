import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import {
  dockerGate,
  ensureSandboxImage,
  labelledContainers,
  TEST_IMAGE,
} from "../../host-agent/src/sandbox/test-support.ts";
import { SAME_STOP_WINDOW_MS } from "../../host-agent/src/stop-signals.ts";
import { freePort } from "../support/edge.ts";
import { getJson, postJson, until, type JsonAnswer } from "../support/http.ts";
import { logLines, runNpmScript, waitForLog, waitForNoProcesses, type NpmScript } from "../support/process-group.ts";
import { removeDir } from "../support/processes.ts";

const docker = await dockerGate("test/e2e/ctrl-c.test.ts");

/**
 * Ctrl-C on `npm start`, as a terminal sends it: SIGINT to every process of the foreground
 * process group. The whole real stack runs (wrangler dev, the Python agent, the host-agent with
 * its Docker sandbox and a warm pool of two).
 */
describe.skipIf(!docker.available)("Ctrl-C on npm start", () => {
  let stack: NpmScript | undefined;
  let agentId = "";
  const dirs: string[] = [];

  afterEach(async () => {
    // After a failure: nothing of the stack may outlive the test.
    stack?.killAll();
    stack = undefined;
    const engine = new Docker();
    for (const id of await labelledContainers(agentId)) await engine.getContainer(id).remove({ force: true });
    for (const dir of dirs.splice(0)) removeDir(dir);
  });

  /** `npm start` on a free port with its own state, linked and with its warm pool full. */
  async function startStack(id: string, env: Record<string, string>, scriptShell?: "bash"): Promise<string> {
    await ensureSandboxImage(TEST_IMAGE);
    agentId = id;
    const dir = mkdtempSync(join(tmpdir(), "atomic-ctrl-c-"));
    dirs.push(dir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    stack = runNpmScript(
      "start",
      {
        ATOMIC_HOST: "127.0.0.1",
        ATOMIC_HTTP_PORT: String(port),
        ATOMIC_STATE_DIR: join(dir, "state"),
        ATOMIC_IPC_SOCKET: join(dir, "llm.sock"),
        ATOMIC_EXPORT_DIR: join(dir, "exports"),
        ATOMIC_AGENT_ID: id,
        ATOMIC_SANDBOX_IMAGE: TEST_IMAGE,
        ATOMIC_SANDBOX_WARM: "2",
        ATOMIC_LOG_LEVEL: "INFO",
        ...env,
      },
      scriptShell,
    );
    const started = stack;
    await until(
      () => getJson(`${url}/api/status`).catch((error: unknown) => ({ status: 0, body: String(error) })),
      (r) =>
        Array.isArray(r.body?.agents) &&
        r.body.agents.some(
          (a: any) => a.agent_id === id && a.connected && a.llm === "healthy" && a.docker === "available",
        ),
      180_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- output ---\n${started.output().slice(-6000)}`);
    });
    await until(
      () => labelledContainers(id),
      (ids) => ids.length >= 2,
      60_000,
      100,
    );
    return url;
  }

  /**
   * Starts a run on the host-agent and resolves once its job runs there, with the request's
   * answer still to come (in an object: an async function would wait for a promise it returns).
   */
  async function startRun(
    url: string,
    script: NpmScript,
    body: object,
  ): Promise<{ answer: Promise<JsonAnswer | Error> }> {
    const answer = postJson(`${url}/api/execute`, body).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );
    await waitForLog(script, (line) => line["msg"] === "job started" && line["kind"] === "sandbox.execute", 60_000);
    return { answer };
  }

  it("one Ctrl-C drains: the running /api/execute is answered, every process exits, no container is left", async () => {
    // bash as npm's script shell execs start.ts, which then hears the Ctrl-C twice: from the
    // terminal and from npm. It must still be one.
    const url = await startStack(`ctrl-c-drain-${process.pid}`, {}, "bash");
    const script = stack!;
    const run = await startRun(url, script, {
      language: "python",
      code: 'import time; time.sleep(3); print("done")',
    });
    script.signalGroup("SIGINT");

    const answer = await run.answer;
    if (answer instanceof Error) throw new Error(`${answer.message}\n--- output ---\n${script.output().slice(-6000)}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ stdout: "done\n", exit_code: 0, timed_out: false });
    await waitForNoProcesses(script, 90_000);
    expect(await labelledContainers(agentId)).toEqual([]);
    const log = logLines(script.output());
    expect(log.some((line) => line["msg"] === "drained" && line["finished"] === 1)).toBe(true);
    expect(log.some((line) => line["msg"] === "second stop signal: stopping now")).toBe(false);
  }, 300_000);

  it("a second Ctrl-C during the drain stops everything at once and still leaves no container", async () => {
    // The drain would wait for the run (four minutes) for as long as ATOMIC_DRAIN_TIMEOUT_MS allows.
    const url = await startStack(`ctrl-c-now-${process.pid}`, { ATOMIC_DRAIN_TIMEOUT_MS: "600000" });
    const script = stack!;
    const run = await startRun(url, script, {
      language: "python",
      code: "import time; time.sleep(240)",
      limits: { timeout_seconds: 280 },
    });
    script.signalGroup("SIGINT");
    const firstAt = performance.now();
    await waitForLog(
      script,
      (line) => line["msg"] === "shutting down: draining (another signal stops at once)",
      30_000,
    );
    // A second Ctrl-C, as a person presses it: after the window in which a repeat is the same one.
    await until(
      async () => performance.now() - firstAt,
      (elapsed) => elapsed > SAME_STOP_WINDOW_MS + 500,
      10_000,
    );
    script.signalGroup("SIGINT");

    // Promptly: long before the run or the drain could end.
    await waitForNoProcesses(script, 45_000);
    expect(await labelledContainers(agentId)).toEqual([]);
    const log = logLines(script.output());
    expect(log.some((line) => line["msg"] === "second stop signal: stopping now")).toBe(true);
    expect(log.some((line) => line["msg"] === "stopping now" && line["handed_back"] === 1)).toBe(true);
    // The run never finished: its request ends without a result (the edge went away).
    const answer = await run.answer;
    expect(answer instanceof Error || answer.status !== 200, JSON.stringify(answer)).toBe(true);
  }, 300_000);
});
