import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startEdge, type EdgeHandle } from "../support/edge.ts";
import { getJson, until } from "../support/http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents } from "../support/processes.ts";

function runCli(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

describe("the host-agent CLI", () => {
  it("refuses a bad configuration with a message naming each bad variable", async () => {
    const result = await runCli(join(ROOT, "host-agent/src/cli.ts"), {
      ATOMIC_THREADS: "zero",
      ATOMIC_EDGE_URL: "not a url",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ATOMIC_THREADS");
    expect(result.stderr).toContain("ATOMIC_EDGE_URL");
    expect(result.stderr).toContain("ATOMIC_AGENT_TOKEN");
  });

  it("builds into one JavaScript file that npm can ship, and that file runs", async () => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-host-agent.ts")], { stdio: "ignore" });
    const result = await runCli(join(ROOT, "host-agent/dist/cli.js"), { ATOMIC_AGENT_TOKEN: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("ATOMIC_AGENT_TOKEN is required");
  });
});

describe("the host-agent CLI on SIGTERM", () => {
  let edge: EdgeHandle;
  let python: Awaited<ReturnType<typeof startPythonAgent>>;
  beforeAll(async () => {
    edge = await startEdge();
    python = await startPythonAgent({ ATOMIC_LLM_OFFLINE_DELAY_MS: "5" });
  });
  afterAll(async () => {
    python?.proc.kill();
    await python?.proc.exited;
    await edge?.dispose();
    removeDir(python.dir);
  });

  it("drains: finishes the pipeline it runs, then leaves the edge and exits 0", async () => {
    const agent = startHostAgent(edge, {
      ATOMIC_AGENT_ID: "cli-drain",
      ATOMIC_IPC_SOCKET: python.socket,
      ATOMIC_SANDBOX: "off",
    });
    await waitForAgents(edge, 1);
    const res = await fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "Build a REST API for user management", async: true }),
    });
    const { pipeline_id: id } = (await res.json()) as { pipeline_id: string };
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "GENERATING",
    );
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    const view = await getJson(`${edge.url}/api/pipelines/${id}`);
    expect(view.body.state, agent.output()).toBe("COMPLETED");
    const status = await getJson(`${edge.url}/api/status`);
    expect(status.body.agents.find((a: any) => a.agent_id === "cli-drain")).toMatchObject({ connected: false });
  });
});
