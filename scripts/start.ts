/**
 * `npm start`: the whole stack on this machine. The edge (`wrangler dev`, offline), the reference
 * Python LLM agent on a Unix socket, and a host-agent linked to the edge with a token generated
 * for this run. Ctrl-C, SIGTERM or SIGHUP stops all three in order: the host-agent drains (its
 * running jobs finish and their results reach the edge), then the Python agent and the edge stop.
 * Another Ctrl-C, more than SAME_STOP_WINDOW_MS after the first, makes the host-agent stop at once;
 * either way it removes every sandbox container it started.
 *
 * Each part runs in a process group of its own, so a terminal's Ctrl-C reaches this script alone
 * and the parts hear of it once, from here, in that order. In the terminal's group the edge
 * would die on the same keypress, before the host-agent could report what it finishes, and the
 * host-agent would hear it twice (from the terminal and from here): "stop now".
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SAME_STOP_WINDOW_MS, StopSignals } from "../host-agent/src/stop-signals.ts";
import { killGroup, ROOT, runEdge } from "./run-edge.ts";

const token = process.env["ATOMIC_AGENT_TOKEN"] || randomBytes(24).toString("base64url");
const runDir = join(ROOT, ".atomic", "run");
mkdirSync(runDir, { recursive: true });
const socket = process.env["ATOMIC_IPC_SOCKET"] || join(runDir, "llm-agent.sock");
const port = process.env["ATOMIC_HTTP_PORT"] || "8080";
const edgeUrl = `http://127.0.0.1:${port}`;

/** How long the Python agent and the edge get to stop after a SIGTERM before they are killed. */
const STOP_GRACE_MS = 10_000;
/** How long the host-agent gets to stop at once (it gives itself 15 s) before it is killed. */
const STOP_NOW_GRACE_MS = 20_000;

interface Part {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

const edge = runEdge({ token, ownProcessGroup: true });
let hostAgent: Part | undefined;
let stopping = false;
/** When the host-agent was told to drain, on the monotonic clock. */
let hostAgentToldAt: number | undefined;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function start(name: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Part {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      if (!stopping) {
        console.error(`[start] ${name} exited (${signal ?? code}); stopping the stack`);
        void shutdown(1);
      }
      resolve();
    });
  });
  return { name, child, exited };
}

function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void done.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL of the part's whole group if it has not exited after `graceMs`. */
async function stopPart(part: Part, graceMs: number): Promise<void> {
  if (isRunning(part.child)) part.child.kill("SIGTERM");
  if (await within(part.exited, graceMs)) return;
  console.error(`[start] ${part.name} did not stop within ${graceMs / 1000} s; killing it`);
  if (part.child.pid !== undefined) killGroup(part.child.pid, "SIGKILL");
  await part.exited;
}

async function edgeReady(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(`${edgeUrl}/health`)).ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Stops the parts in order: the host-agent drains while the edge and the Python agent still serve it. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const agent = hostAgent;
  if (agent !== undefined && isRunning(agent.child)) {
    console.error("[start] stopping: the host-agent drains first (Ctrl-C again stops it at once)");
    hostAgentToldAt = performance.now();
    agent.child.kill("SIGTERM");
  }
  // The host-agent bounds its own drain (ATOMIC_DRAIN_TIMEOUT_MS and a margin), and a second
  // Ctrl-C cuts it short, so this waits for as long as it takes.
  await agent?.exited;
  await stopPart(llmAgent, STOP_GRACE_MS);
  edge.stop("SIGTERM");
  if (!(await within(edge.exited, STOP_GRACE_MS))) {
    console.error(`[start] the edge did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
    edge.kill();
    await edge.exited;
  }
  process.exit(code);
}

/** Passes a second Ctrl-C on to a draining host-agent, which then stops at once. */
function stopNow(): void {
  const agent = hostAgent;
  if (agent === undefined || hostAgentToldAt === undefined || !isRunning(agent.child)) return;
  // The host-agent takes a repeat within SAME_STOP_WINDOW_MS of its first signal for that one
  // arriving twice, so this one goes out after the window.
  const waitMs = Math.max(0, hostAgentToldAt + SAME_STOP_WINDOW_MS + 100 - performance.now());
  setTimeout(() => {
    if (!isRunning(agent.child)) return;
    console.error("[start] stopping the host-agent at once");
    agent.child.kill("SIGTERM");
    setTimeout(() => {
      if (!isRunning(agent.child) || agent.child.pid === undefined) return;
      console.error(`[start] the host-agent did not stop within ${STOP_NOW_GRACE_MS / 1000} s; killing it`);
      killGroup(agent.child.pid, "SIGKILL");
    }, STOP_NOW_GRACE_MS).unref();
  }, waitMs);
}

const stops = new StopSignals();
function onSignal(): void {
  const action = stops.next(performance.now());
  if (action === "repeat") return;
  // Already stopping because a part died: the person's first Ctrl-C means "now".
  if (action === "now" || stopping) stopNow();
  else void shutdown(0);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
// The parts outlive this script in their own groups: should it end any other way, they drain.
process.on("exit", () => {
  for (const part of [hostAgent, llmAgent]) if (part !== undefined && isRunning(part.child)) part.child.kill("SIGTERM");
  edge.stop("SIGTERM");
});

void edge.exited.then((code) => {
  if (!stopping) {
    console.error(`[start] the edge exited (${code}); stopping the stack`);
    void shutdown(code || 1);
  }
});

// Declared here, used by shutdown(): nothing can call that before this line has run.
const llmAgent = start("llm-agent", "python3", ["-m", "atomic_agent"], join(ROOT, "host-agent", "python"), {
  ATOMIC_IPC_SOCKET: socket,
});

if (!(await edgeReady(60_000))) {
  if (!stopping) console.error("[start] the edge did not answer /health within 60 s");
  await shutdown(1);
} else if (!stopping) {
  hostAgent = start(
    "host-agent",
    process.execPath,
    ["--max-semi-space-size=2", join(ROOT, "host-agent", "src", "cli.ts")],
    ROOT,
    {
      ATOMIC_EDGE_URL: edgeUrl,
      ATOMIC_AGENT_TOKEN: token,
      ATOMIC_IPC_SOCKET: socket,
      ATOMIC_AGENT_ID: process.env["ATOMIC_AGENT_ID"] || "local",
      ATOMIC_EXPORT_DIR: process.env["ATOMIC_EXPORT_DIR"] || join(ROOT, "exports"),
    },
  );
  console.log(`\n[start] Atomic Orchestrator is up: ${edge.url}  (Ctrl-C stops it)`);
  console.log(`[start] dashboard: open ${edge.url}/ in a browser`);
  // How to try it from another terminal, with the CLI of this checkout.
  const url = edge.url === "http://localhost:8080" ? "" : ` --url ${edge.url}`;
  console.log(
    `[start] try it from another terminal:  npm run -s atomic --${url} generate "A CLI that counts words" --language python --verify --out wc\n`,
  );
}
