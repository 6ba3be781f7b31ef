/**
 * The stack under measurement: the real Worker in workerd (test/support/edge.ts), reference Python
 * agents and host-agent CLIs (test/support/processes.ts). Keeps every process it starts so that
 * `stopAll()` ends exactly those, on success, on error and on Ctrl-C.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startEdge, type EdgeHandle } from "../test/support/edge.ts";
import { removeDir, startHostAgent, startPythonAgent, type Proc } from "../test/support/processes.ts";
import { StatusResponse } from "../shared/src/index.ts";
import { HttpClient, jsonOf } from "./http-client.ts";
import { listeningPorts, workerdPids } from "./proc.ts";

export interface ManagedProcess {
  name: string;
  kind: "python" | "host-agent";
  proc: Proc;
  pid: number;
}

export interface Workerd {
  /** The Worker and its Durable Objects; `port` reaches it without wrangler's proxy. */
  runtime: { pid: number; port: number | null } | null;
  /** wrangler's dev proxy in front of it (null when there is none). */
  proxy: { pid: number } | null;
}

export interface PythonAgent extends ManagedProcess {
  socket: string;
}

const STOP_GRACE_MS = 15_000;

/**
 * Host-agents run as they ship (the npm package's bin, `npm run build:agent`), not from their
 * TypeScript source: Node's type stripping alone adds ~30 MB to every process's RSS.
 */
export const HOST_AGENT_BUILD = join(ROOT, "host-agent", "dist", "cli.js");

/** Builds host-agent/dist/cli.js from the current source. */
export function buildHostAgent(): void {
  execFileSync(process.execPath, [join(ROOT, "scripts", "build-host-agent.ts")], { stdio: "ignore" });
}

export class Stack {
  readonly edge: EdgeHandle;
  readonly http: HttpClient;
  readonly #processes = new Map<string, ManagedProcess>();
  readonly #dirs: string[] = [];
  /** The edge's local state (Durable Object storage, R2): kept by this stack so it can be measured. */
  readonly stateDir: string;
  #stopped = false;

  private constructor(edge: EdgeHandle, stateDir: string) {
    this.edge = edge;
    this.stateDir = stateDir;
    this.http = new HttpClient(edge.url);
  }

  static async start(vars: Record<string, string>, inspectorPort?: number): Promise<Stack> {
    buildHostAgent();
    const stateDir = mkdtempSync(join(tmpdir(), "atomic-bench-edge-"));
    try {
      return new Stack(await startEdge(vars, stateDir, 0, inspectorPort), stateDir);
    } catch (error) {
      rmSync(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Files and bytes in the edge's local state now. */
  stateUsage(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) {
          files += 1;
          bytes += statSync(path).size;
        }
      }
    };
    try {
      walk(this.stateDir);
    } catch {
      // Gone or unreadable: what was counted stands.
    }
    return { files, bytes };
  }

  /**
   * The workerd processes behind the edge. wrangler's dev server runs two: a proxy that owns the
   * edge's port and forwards every request, and the runtime with the Worker and its Durable
   * Objects, on a port of its own (which a client can also reach directly, without the proxy).
   * The runtime starts a moment after the proxy: this waits up to `waitMs` for both.
   */
  async workerd(waitMs = 10_000): Promise<Workerd> {
    const edgePort = Number(new URL(this.edge.url).port);
    const deadline = Date.now() + waitMs;
    const look = () => workerdPids().map((pid) => ({ pid, ports: listeningPorts(pid) }));
    // Both up, and each listening: the proxy on the edge's port, the runtime on its own.
    const settled = (found: ReturnType<typeof look>) =>
      found.length >= 2 && found.every((w) => w.ports.length > 0) && found.some((w) => w.ports.includes(edgePort));
    let found = look();
    while (!settled(found) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = look();
    }
    const proxy = found.length > 1 ? (found.find((w) => w.ports.includes(edgePort)) ?? null) : null;
    const runtime = found.find((w) => w !== proxy) ?? null;
    return {
      runtime: runtime ? { pid: runtime.pid, port: runtime.ports.find((p) => p !== edgePort) ?? null } : null,
      proxy: proxy ? { pid: proxy.pid } : null,
    };
  }

  processes(): ManagedProcess[] {
    return [...this.#processes.values()];
  }

  get(name: string): ManagedProcess | undefined {
    return this.#processes.get(name);
  }

  async startPython(name: string, env: Record<string, string> = {}): Promise<PythonAgent> {
    const started = await startPythonAgent({ ATOMIC_LOG_LEVEL: "ERROR", ...env });
    this.#dirs.push(started.dir);
    const managed: PythonAgent = {
      name,
      kind: "python",
      proc: started.proc,
      pid: started.proc.child.pid ?? -1,
      socket: started.socket,
    };
    this.#processes.set(name, managed);
    return managed;
  }

  startHostAgent(name: string, env: Record<string, string>): ManagedProcess {
    const proc = startHostAgent(
      this.edge,
      {
        ATOMIC_LOG_LEVEL: "ERROR",
        ATOMIC_AGENT_ID: name,
        ATOMIC_DRAIN_TIMEOUT_MS: "5000",
        ...env,
      },
      HOST_AGENT_BUILD,
    );
    const managed: ManagedProcess = { name, kind: "host-agent", proc, pid: proc.child.pid ?? -1 };
    this.#processes.set(name, managed);
    return managed;
  }

  /** Waits until `agentId` is linked in `pool` and `ready` holds for it (by default: its LLM is healthy). */
  async waitForAgent(
    agentId: string,
    pool = "default",
    ready: (agent: StatusResponse["agents"][number]) => boolean = (agent) => agent.llm === "healthy",
    timeoutMs = 30_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const managed = this.#processes.get(agentId);
      if (managed && managed.proc.child.exitCode !== null)
        throw new Error(`host-agent ${agentId} exited: ${managed.proc.output().slice(-2000)}`);
      const status = StatusResponse.safeParse(
        jsonOf(await this.http.get(`/api/status?pool=${encodeURIComponent(pool)}`)),
      );
      const agent = status.success ? status.data.agents.find((a) => a.agent_id === agentId) : undefined;
      if (agent?.connected && ready(agent)) return;
      if (Date.now() > deadline) throw new Error(`host-agent ${agentId} did not link in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops one process: SIGTERM (a host-agent drains), SIGKILL if it is still there after the grace. */
  async stop(name: string): Promise<void> {
    const managed = this.#processes.get(name);
    if (!managed) return;
    this.#processes.delete(name);
    managed.proc.kill("SIGTERM");
    const timer = setTimeout(() => managed.proc.kill("SIGKILL"), STOP_GRACE_MS);
    await managed.proc.exited;
    clearTimeout(timer);
  }

  /**
   * Stops every process this stack started, host-agents first, then the Python agents, then the
   * edge. `withStoppedState` sees the edge's state once nothing runs on it, before it is removed.
   */
  async stopAll(withStoppedState?: (stateDir: string) => void): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const agents = this.processes().filter((p) => p.kind === "host-agent");
    await Promise.all(agents.map((p) => this.stop(p.name)));
    await Promise.all(this.processes().map((p) => this.stop(p.name)));
    this.http.close();
    await this.edge.dispose();
    withStoppedState?.(this.stateDir);
    for (const dir of [...this.#dirs, this.stateDir]) removeDir(dir);
  }

  /** On a second Ctrl-C: SIGKILL whatever is left, synchronously. */
  killNow(): void {
    for (const managed of this.#processes.values()) managed.proc.kill("SIGKILL");
    for (const pid of workerdPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (const dir of [...this.#dirs, this.stateDir]) removeDir(dir);
  }
}
