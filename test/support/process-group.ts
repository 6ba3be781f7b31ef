/**
 * Runs an npm script as a terminal would: in a process group of its own, so that a test can send
 * SIGINT to the whole group as Ctrl-C does, and find every process it started afterwards.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { ROOT } from "./edge.ts";
import { until } from "./http.ts";

export interface NpmScript {
  /** npm's pid, which leads the process group. */
  pid: number;
  /** Everything written to stdout and stderr so far, by npm and every process under it. */
  output(): string;
  /** Sends `signal` to every process in npm's group, as a terminal does on Ctrl-C (SIGINT). */
  signalGroup(signal: NodeJS.Signals): void;
  /** Resolves with npm's exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Pids of the live processes started under this script, found by a variable only they carry. */
  processes(): number[];
  /** SIGKILLs every process started under this script: cleanup after a failed test. */
  killAll(): void;
}

/**
 * `npm run <script>` with `env` over this process's environment. `scriptShell: "bash"` makes npm
 * run the script through bash, which execs a single command: the script's process is then npm's
 * child and hears a Ctrl-C twice, once from the terminal and once passed on by npm.
 */
export function runNpmScript(script: string, env: Record<string, string>, scriptShell?: "bash"): NpmScript {
  const marker = randomUUID();
  const child = spawn("npm", ["run", "--silent", script], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...(scriptShell === undefined ? {} : { npm_config_script_shell: scriptShell }),
      ...env,
      TEST_PROCESS_MARKER: marker,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) throw new Error("npm did not start");
  const pid = child.pid;
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const processes = () => processesCarrying(`TEST_PROCESS_MARKER=${marker}`);
  return {
    pid,
    output: () => output,
    signalGroup: (signal) => process.kill(-pid, signal),
    exited,
    processes,
    killAll() {
      for (const found of processes()) {
        try {
          process.kill(found, "SIGKILL");
        } catch (error) {
          // Gone between the listing and the kill.
          if (!(error instanceof Error && "code" in error && error.code === "ESRCH")) throw error;
        }
      }
    },
  };
}

/**
 * Live processes whose environment holds `entry` (Linux: /proc). Whatever a process starts
 * inherits its environment, so this finds every descendant, in whatever process group it put
 * itself, and also those whose parent has gone. A zombie shows an empty environment: it has exited.
 */
function processesCarrying(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, "latin1");
    } catch (error) {
      // Exited while listing, or another user's process.
      if (
        error instanceof Error &&
        "code" in error &&
        (error.code === "ENOENT" || error.code === "EACCES" || error.code === "ESRCH")
      )
        continue;
      throw error;
    }
    if (environ.split("\0").includes(entry)) found.push(Number(name));
  }
  return found;
}

/** The JSON log lines in `output` (other lines skipped). */
export function logLines(output: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a line cut by another process's write
    }
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) lines.push({ ...parsed });
  }
  return lines;
}

/** Waits until a JSON log line matching `match` appears in `script`'s output. */
export async function waitForLog(
  script: NpmScript,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<void> {
  await until(
    async () => logLines(script.output()).some(match),
    (seen) => seen,
    timeoutMs,
    50,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- output ---\n${script.output().slice(-6000)}`);
  });
}

/** Waits until every process started under `script` has exited. */
export async function waitForNoProcesses(script: NpmScript, timeoutMs: number): Promise<void> {
  await until(
    async () => script.processes(),
    (left) => left.length === 0,
    timeoutMs,
    100,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- output ---\n${script.output().slice(-6000)}`);
  });
}
