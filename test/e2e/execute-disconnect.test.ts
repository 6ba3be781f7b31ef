import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerGate, labelledContainers } from "../../host-agent/src/sandbox/test-support.ts";
import type { EdgeHandle } from "../support/edge.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { startSandboxStack, type SandboxStack } from "../support/sandbox-stack.ts";

const docker = await dockerGate("test/e2e/execute-disconnect.test.ts");

/** Sends `POST /api/execute` on a raw connection to `origin`, so the test can drop it mid-run. */
function openExecute(origin: string, body: unknown): { drop: () => void; answer: Promise<string> } {
  const { hostname, port } = new URL(origin);
  const json = JSON.stringify(body);
  const socket = connect(Number(port), hostname, () => {
    socket.write(
      `POST /api/execute HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
    );
  });
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  const answer = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  socket.on("error", () => undefined);
  // A reset, as when the client's process dies or its network goes: workerd sees a connection
  // that is half-closed only once it writes the answer.
  return { drop: () => socket.resetAndDestroy(), answer };
}

describe.skipIf(!docker.available)("a client that leaves POST /api/execute mid-run", () => {
  let stack: SandboxStack;
  let edge: EdgeHandle;
  const agentId = `e2e-disconnect-${process.pid}`;

  beforeAll(async () => {
    // No warm pool: every container of this agent is a run's.
    stack = await startSandboxStack({ ATOMIC_AGENT_WAIT_MS: "15000" }, (socket) => ({
      ATOMIC_AGENT_ID: agentId,
      ATOMIC_IPC_SOCKET: socket,
    }));
    edge = stack.edge;
  }, 180_000);

  afterAll(async () => stack?.stop());

  it("cancels the run: its container is gone soon after and its slot is free", async () => {
    const run = openExecute(edge.workerUrl, {
      language: "shell",
      code: "sleep 120",
      limits: { timeout_seconds: 150 },
    });
    await until(
      () => labelledContainers(agentId),
      (ids) => ids.length === 1,
      20_000,
    );
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.agents[0]?.running === 1,
    );
    run.drop();
    await run.answer;
    await until(
      () => labelledContainers(agentId),
      (ids) => ids.length === 0,
      10_000,
    );
    await until(
      () => getJson(`${edge.url}/api/status`),
      (r) => r.body.agents[0]?.running === 0,
      5_000,
    );
    const metrics = await getJson(`${edge.url}/api/metrics`);
    expect(metrics.body.executions.cancelled).toBe(1);
    // The host-agent and the slot are free for the next run.
    const next = await postJson(`${edge.url}/api/execute`, { language: "python", code: "print(1+1)" });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.stdout).toBe("2\n");
  }, 60_000);
});
