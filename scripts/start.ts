/**
 * `npm start`: the whole stack on this machine. The edge (`wrangler dev`, offline), the reference
 * Python LLM agent on a Unix socket, and a host-agent linked to the edge with a token generated
 * for this run. Ctrl-C or SIGTERM stops all three (the host-agent drains first).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runEdge } from "./run-edge.ts";

const token = process.env["ATOMIC_AGENT_TOKEN"] || randomBytes(24).toString("base64url");
const runDir = join(ROOT, ".atomic", "run");
mkdirSync(runDir, { recursive: true });
const socket = process.env["ATOMIC_IPC_SOCKET"] || join(runDir, "llm-agent.sock");
const port = process.env["ATOMIC_HTTP_PORT"] || "8080";
const edgeUrl = `http://127.0.0.1:${port}`;

const edge = runEdge({ token });
const children: ChildProcess[] = [];

function start(name: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
  child.once("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function edgeReady(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${edgeUrl}/health`)).ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = children.map(
    (child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r))),
  );
  for (const child of [...children].reverse()) child.kill("SIGTERM");
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 15_000))]);
  edge.stop("SIGTERM");
  await Promise.race([edge.exited, new Promise((r) => setTimeout(r, 5_000))]);
  process.exit(code);
}
process.once("SIGINT", () => void stop(0));
process.once("SIGTERM", () => void stop(0));
edge.exited.then((code) => {
  if (!stopping) {
    console.error(`[start] the edge exited (${code}); stopping the stack`);
    void stop(code || 1);
  }
});

start("llm-agent", "python3", ["-m", "atomic_agent"], join(ROOT, "host-agent", "python"), {
  ATOMIC_IPC_SOCKET: socket,
});

if (!(await edgeReady(60_000))) {
  console.error("[start] the edge did not answer /health within 60 s");
  await stop(1);
}
start("host-agent", process.execPath, ["--max-semi-space-size=2", join(ROOT, "host-agent", "src", "cli.ts")], ROOT, {
  ATOMIC_EDGE_URL: edgeUrl,
  ATOMIC_AGENT_TOKEN: token,
  ATOMIC_IPC_SOCKET: socket,
  ATOMIC_AGENT_ID: process.env["ATOMIC_AGENT_ID"] || "local",
  ATOMIC_EXPORT_DIR: process.env["ATOMIC_EXPORT_DIR"] || join(ROOT, "exports"),
});
console.log(`\n[start] Atomic Orchestrator is up: ${edge.url}  (Ctrl-C stops it)\n`);
