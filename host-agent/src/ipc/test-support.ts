/**
 * Helpers for tests that need the real Python LLM agent (this folder's and any other suite's):
 *
 *   const agent = await startAgent({ env: { ATOMIC_LLM_OFFLINE_DELAY_MS: "20" } });
 *   const pool = new IpcPool({ socketPath: agent.socketPath });
 *   ...
 *   await pool.close();
 *   await agent.stop();
 *
 * Every agent runs `python3 -m atomic_agent` from host-agent/python with ATOMIC_IPC_SOCKET in a
 * fresh temporary folder and without the ATOMIC_* variables of whoever runs the tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder `python3 -m atomic_agent` runs in. */
export const PYTHON_AGENT_DIR = fileURLToPath(new URL("../../python/", import.meta.url));

export interface StartAgentOptions {
  /** Extra environment (ATOMIC_LLM_*, ATOMIC_IPC_DRAIN_MS, ...). */
  env?: Record<string, string>;
  /** Use this socket path instead of one in a new temporary folder (e.g. to restart on the same one). */
  socketPath?: string;
  readyTimeoutMs?: number;
}

export interface RunningAgent {
  socketPath: string;
  /** The temporary folder of the socket; removed by stop() when startAgent made it. */
  dir: string;
  process: ChildProcess;
  /** Everything the agent wrote to stderr (its JSON log lines) so far. */
  logs(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGKILL, as a crash would: no cleanup, the socket file stays. Resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`; then removes the temporary folder. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLeftovers(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Makes a fresh temporary folder (short path: Unix socket paths are limited to 107 bytes). */
export function tempDir(prefix = "atomic-ipc-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Starts the real Python agent and resolves once it listens (its "listening" log line: a socket
 * file alone may be a stale one left by a killed agent).
 */
export async function startAgent(options: StartAgentOptions = {}): Promise<RunningAgent> {
  const ownDir = options.socketPath === undefined;
  const dir = options.socketPath === undefined ? await tempDir() : dirname(options.socketPath);
  const socketPath = options.socketPath ?? join(dir, "agent.sock");
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("ATOMIC_") && value !== undefined) env[key] = value;
  }
  Object.assign(env, { ATOMIC_IPC_SOCKET: socketPath, ATOMIC_LOG_LEVEL: "DEBUG" }, options.env);

  const child = spawn("python3", ["-m", "atomic_agent"], {
    cwd: PYTHON_AGENT_DIR,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", killLeftovers);
  }
  let logs = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    logs += text;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
  });

  const agent: RunningAgent = {
    socketPath,
    dir,
    process: child,
    logs: () => logs,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };

  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (!logs.includes('"msg": "listening"')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await agent.stop();
      throw new Error(`the Python agent exited (${child.exitCode ?? child.signalCode}) before listening:\n${logs}`);
    }
    if (Date.now() > deadline) {
      await agent.stop();
      throw new Error(`the Python agent did not listen within ${timeoutMs} ms:\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return agent;
}

/** Resolves when `predicate()` holds, checking every `everyMs`; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
