import { ensureSandboxImage, TEST_IMAGE } from "../../host-agent/src/sandbox/test-support.ts";
import { startEdge, type EdgeHandle } from "./edge.ts";
import { getJson, until } from "./http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents, type Proc } from "./processes.ts";

/** The whole product with a real Docker sandbox: the edge, the Python agent and one host-agent CLI. */
export interface SandboxStack {
  edge: EdgeHandle;
  python: Awaited<ReturnType<typeof startPythonAgent>>;
  /** The running host-agent; a test that restarts it puts the new one here, so `stop` ends it. */
  agent: Proc;
  stop(): Promise<void>;
}

/**
 * Starts the stack and waits until its host-agent is linked with a healthy LLM and Docker.
 * `agentEnv` gets the Python agent's socket and returns the host-agent's settings; `pythonEnv` sets
 * the Python agent's (its LLM provider, for one).
 */
export async function startSandboxStack(
  edgeVars: Record<string, string>,
  agentEnv: (pythonSocket: string) => Record<string, string>,
  pythonEnv: Record<string, string> = {},
): Promise<SandboxStack> {
  await ensureSandboxImage(TEST_IMAGE);
  const edge = await startEdge(edgeVars);
  const python = await startPythonAgent(pythonEnv);
  const stack: SandboxStack = {
    edge,
    python,
    agent: startHostAgent(edge, agentEnv(python.socket)),
    async stop() {
      stack.agent.kill();
      await stack.agent.exited;
      python.proc.kill();
      await python.proc.exited;
      await edge.dispose();
      removeDir(python.dir);
    },
  };
  await waitForAgents(edge, 1);
  await until(
    () => getJson(`${edge.url}/health`),
    (r) => r.body.docker === "available",
    20_000,
  );
  return stack;
}
