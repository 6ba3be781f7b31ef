import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerGate, labelledContainers, TEST_RUNTIME } from "../../host-agent/src/sandbox/test-support.ts";
import type { EdgeHandle } from "../support/edge.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { startHostAgent, waitForAgents } from "../support/processes.ts";
import { startSandboxStack, type SandboxStack } from "../support/sandbox-stack.ts";

const docker = await dockerGate("test/e2e/sandbox.test.ts");

/** The sandbox through the whole product: edge → host-agent CLI → a real Docker engine. */
describe.skipIf(!docker.available)("end to end with the Docker sandbox", () => {
  let stack: SandboxStack;
  let edge: EdgeHandle;
  const agentId = `e2e-sandbox-${process.pid}`;
  const agentEnv = (socket: string) => ({
    ATOMIC_AGENT_ID: agentId,
    ATOMIC_IPC_SOCKET: socket,
    ATOMIC_SANDBOX_WARM: "1",
  });

  beforeAll(async () => {
    stack = await startSandboxStack({ ATOMIC_AGENT_WAIT_MS: "15000", ATOMIC_AGENT_GRACE_MS: "1000" }, agentEnv);
    edge = stack.edge;
  }, 180_000);

  afterAll(async () => stack?.stop());

  it("reports the sandbox's runtime in /health and /api/status", async () => {
    const health = await getJson(`${edge.url}/health`);
    expect(health.body.sandbox_runtimes).toEqual([TEST_RUNTIME]);
    const status = await getJson(`${edge.url}/api/status`);
    const agent = status.body.agents.find((a: { agent_id: string }) => a.agent_id === agentId);
    expect(agent).toMatchObject({ docker: "available", sandbox_runtime: TEST_RUNTIME });
  });

  it("runs print(1+1) through POST /api/execute", async () => {
    const res = await postJson(`${edge.url}/api/execute`, { language: "python", code: "print(1+1)" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ success: true, stdout: "2\n", stderr: "", exit_code: 0, timed_out: false });
  });

  it("answers 400 for a limit above the host's maximum", async () => {
    const res = await postJson(`${edge.url}/api/execute`, {
      language: "python",
      code: "print(1)",
      limits: { memory_bytes: 64 * 1024 ** 4 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.message).toContain("memory_bytes");
  });

  it("verifies a generated program with its tests in the sandbox (the older metadata.validate)", async () => {
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "Hello World in Python",
      metadata: { validate: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.verified, JSON.stringify(res.body.verification)).toBe(true);
    expect(res.body.verification).toMatchObject({ status: "passed", repairs: 0, tests: { failed: 0 } });
    expect(res.body.verification.tests.passed).toBeGreaterThan(0);
  });

  it("leaves no sandbox container behind when the host-agent is killed mid-run and restarted", async () => {
    const pending = postJson(`${edge.url}/api/execute`, {
      language: "shell",
      code: "sleep 6",
      limits: { timeout_seconds: 30 },
    });
    // The warm container is taken by the run and a fresh one is started: wait for both.
    const before = await until(
      () => labelledContainers(agentId),
      (ids) => ids.length >= 2,
      10_000,
    );
    stack.agent.kill("SIGKILL");
    await stack.agent.exited;
    stack.agent = startHostAgent(edge, agentEnv(stack.python.socket));
    await waitForAgents(edge, 1);
    // The restarted agent sweeps every container the killed one left (the edge may meanwhile
    // have placed the run again on it, in a container of its own).
    await until(
      () => labelledContainers(agentId),
      (ids) => ids.every((id) => !before.includes(id)),
      20_000,
    );
    const answer = await pending;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ exit_code: 0, timed_out: false });
  }, 90_000);
});
