import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, type EdgeHandle } from "./edge.ts";
import { getJson, until } from "./http.ts";

export interface Proc {
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** The real reference Python agent on a socket in a fresh temp dir. */
export async function startPythonAgent(
  env: Record<string, string> = {},
  socketDir?: string,
): Promise<{ proc: Proc; socket: string; dir: string }> {
  const dir = socketDir ?? mkdtempSync(join(tmpdir(), "atomic-py-"));
  const socket = join(dir, "llm.sock");
  const proc = track(
    spawn("python3", ["-m", "atomic_agent"], {
      cwd: join(ROOT, "host-agent", "python"),
      env: { ...process.env, ATOMIC_IPC_SOCKET: socket, ATOMIC_LOG_LEVEL: "WARN", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  await until(
    async () => existsSync(socket),
    (ok) => ok,
    15_000,
    25,
  );
  return { proc, socket, dir };
}

/** The real host-agent CLI, linked to `edge`: its TypeScript source, or `entry` (e.g. the built dist/cli.js). */
export function startHostAgent(
  edge: EdgeHandle,
  env: Record<string, string>,
  entry = join(ROOT, "host-agent", "src", "cli.ts"),
): Proc {
  return track(
    // As the CLI's hashbang runs it (host-agent/src/cli.ts says why).
    spawn(process.execPath, ["--max-semi-space-size=2", entry], {
      cwd: ROOT,
      env: {
        ...process.env,
        ATOMIC_EDGE_URL: edge.url,
        ATOMIC_AGENT_TOKEN: edge.token,
        ATOMIC_LOG_LEVEL: "WARN",
        ATOMIC_SANDBOX_WARM: "0",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/** Waits until the edge shows `count` linked agents with a healthy LLM. */
export async function waitForAgents(edge: EdgeHandle, count: number, timeoutMs = 20_000): Promise<void> {
  await until(
    () => getJson(`${edge.url}/api/status`),
    (r) =>
      Array.isArray(r.body.agents) &&
      r.body.agents.filter((a: any) => a.connected && a.llm === "healthy").length >= count,
    timeoutMs,
    100,
  );
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
