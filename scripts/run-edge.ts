import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { devServerEnvironment } from "./dev-server-environment.ts";
import { pruneEmptyDatabases } from "./prune-empty-databases.ts";

export const ROOT = resolve(import.meta.dirname, "..");

/** Settings of the edge that `npm start` passes through from the environment to `wrangler dev`. */
const PASSED_THROUGH = /^ATOMIC_(?!HOST$|HTTP_PORT$|WS_PORT$|EDGE_URL$|STATE_DIR$)/;

export interface EdgeProcess {
  url: string;
  exited: Promise<number>;
  /** Signals wrangler, which stops its workerd. */
  stop(signal?: NodeJS.Signals): void;
  /** SIGKILLs wrangler and, with `ownProcessGroup`, its workerd too: the last resort. */
  kill(): void;
}

/**
 * Runs the Worker with `wrangler dev` in the dev-server environment of this project
 * (dev-server-environment.ts: offline, no trace collector, full collections), with its state in `ATOMIC_STATE_DIR` (default
 * `.wrangler/state`) so pipelines survive a restart. Every other `ATOMIC_*` variable of the
 * environment reaches the Worker as a binding, so an operator configures it as any other part.
 *
 * None of them is on wrangler's command line, which any local user reads in `ps`
 * (/proc/<pid>/cmdline): they go into `.atomic/edge-<pid>.env`, created with mode 0600 in a 0700
 * folder and handed over with `--env-file`, and the file is deleted when wrangler exits.
 *
 * With `ownProcessGroup`, wrangler and its workerd get a process group of their own, so a
 * terminal's Ctrl-C does not reach them: the caller decides when the edge stops.
 */
export function runEdge(options: { token: string; quiet?: boolean; ownProcessGroup?: boolean }): EdgeProcess {
  const host = process.env["ATOMIC_HOST"] || "0.0.0.0";
  const port = process.env["ATOMIC_HTTP_PORT"] || "8080";
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    console.error(`ATOMIC_HTTP_PORT must be a port number, not ${JSON.stringify(port)}`);
    process.exit(2);
  }
  const configHome = join(ROOT, ".atomic", "wrangler-home");
  mkdirSync(configHome, { recursive: true });
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (PASSED_THROUGH.test(name) && value !== undefined && name !== "ATOMIC_AGENT_TOKEN") vars[name] = value;
  }
  vars["ATOMIC_AGENT_TOKEN"] = options.token;
  const stateDir = process.env["ATOMIC_STATE_DIR"] || join(ROOT, ".wrangler", "state");
  pruneState(stateDir);
  const envFile = writeEnvFile(vars);
  const child = spawn(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    [
      "dev",
      "--ip",
      host,
      "--port",
      port,
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      "--env-file",
      envFile,
    ],
    {
      cwd: ROOT,
      detached: options.ownProcessGroup === true,
      stdio: ["ignore", options.quiet ? "ignore" : "inherit", "inherit"],
      env: {
        ...process.env,
        ...devServerEnvironment(process.env),
        XDG_CONFIG_HOME: configHome,
      },
    },
  );
  const exited = new Promise<number>((resolveExit) =>
    child.once("exit", (code) => {
      rmSync(envFile, { force: true });
      resolveExit(code ?? 0);
    }),
  );
  // A parent that ends without waiting for wrangler still takes the file with it.
  process.once("exit", () => rmSync(envFile, { force: true }));
  const shown = host === "0.0.0.0" ? "localhost" : host;
  return {
    url: `http://${shown}:${port}`,
    exited,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
    },
    kill() {
      if (options.ownProcessGroup !== true) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        return;
      }
      // The whole group, even after wrangler has gone: a workerd it left behind is in it too.
      if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
    },
  };
}

/** Removes what deleted objects left on disk while no runtime has the state open, and says so. */
function pruneState(stateDir: string): void {
  const pruned = pruneEmptyDatabases(stateDir);
  if (pruned.removed > 0) {
    const kb = pruned.removedBytes / 1024;
    const size = kb < 1024 ? `${Math.round(kb)} KB` : `${(kb / 1024).toFixed(1)} MB`;
    console.log(
      `[edge] removed ${pruned.removed.toLocaleString("en-US")} empty database files of deleted objects (${size})`,
    );
  }
}

/**
 * Writes `vars` as a dotenv file only this user can read (`.atomic/edge-<pid>.env`, mode 0600, in a
 * 0700 folder) and returns its path. Values are single-quoted, which dotenv takes literally; a value
 * with a quote or a line break cannot be written that way and stops the start with a message.
 */
function writeEnvFile(vars: Record<string, string>): string {
  const dir = join(ROOT, ".atomic");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const lines: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (/['\r\n]/.test(value)) {
      console.error(`${name} must not contain a single quote or a line break`);
      process.exit(2);
    }
    lines.push(`${name}='${value}'`);
  }
  const path = join(dir, `edge-${process.pid}.env`);
  // Created 0600 before anything is written: the secrets are never readable by anyone else.
  writeFileSync(path, "", { mode: 0o600 });
  chmodSync(path, 0o600);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** Signals every process of the group `pgid` leads; a group that is already gone is fine. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "ESRCH")) throw error;
  }
}
