/** What the figures were measured on: the machine, the versions, the commit. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../test/support/edge.ts";

const run = promisify(execFile);

async function output(command: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: ROOT, timeout: 10_000 });
    return (stdout || stderr).trim();
  } catch {
    return null;
  }
}

function packageVersion(name: string): string | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8"));
    if (typeof parsed === "object" && parsed !== null && "version" in parsed && typeof parsed.version === "string")
      return parsed.version;
    return null;
  } catch {
    return null;
  }
}

export interface MachineInfo {
  date: string;
  cpus: number;
  cpu_model: string;
  memory_mb: number;
  kernel: string;
  node: string;
  python: string | null;
  docker: string | null;
  wrangler: string | null;
  git_commit: string | null;
  /** Uncommitted changes to tracked files when the run started (untracked files not counted). */
  git_dirty: boolean | null;
}

export async function machineInfo(): Promise<MachineInfo> {
  const [python, docker, commit, status] = await Promise.all([
    output("python3", ["--version"]),
    output("docker", ["version", "--format", "{{.Server.Version}}"]),
    output("git", ["rev-parse", "HEAD"]),
    output("git", ["status", "--porcelain", "--untracked-files=no"]),
  ]);
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_mb: Math.round(totalmem() / 1024 / 1024),
    kernel: release(),
    node: process.version,
    python: python?.replace(/^Python /, "") ?? null,
    docker,
    wrangler: packageVersion("wrangler"),
    git_commit: commit,
    git_dirty: status === null ? null : status.length > 0,
  };
}
