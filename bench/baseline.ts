/**
 * The baseline of `npm run bench -- --baseline REF`: that commit checked out in a worktree of its
 * own (.atomic/bench-baseline/<commit>), its own bench run there first, in the same session as
 * this one, and its results read back for the side-by-side table (speed-targets.ts).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ENVIRONMENT_AS_GIVEN, ROOT } from "../test/support/edge.ts";

export interface Baseline {
  ref: string;
  commit: string;
  dir: string;
}

/** Checks `ref` out into its worktree (once per commit) with the dependencies it locks. */
export function checkOutBaseline(ref: string, say: (line: string) => void): Baseline {
  let commit: string;
  try {
    commit = execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    throw new Error(`--baseline ${ref}: not a commit of this repository (git rev-parse found nothing)`);
  }
  const dir = join(ROOT, ".atomic", "bench-baseline", commit.slice(0, 12));
  if (!existsSync(join(dir, ".git"))) {
    say(`checking out ${ref} (${commit.slice(0, 12)}) into ${dir}`);
    execFileSync("git", ["worktree", "add", "--force", "--detach", dir, commit], { cwd: ROOT, stdio: "ignore" });
  }
  if (!existsSync(join(dir, "node_modules"))) {
    const lockOf = (root: string) => readFileSync(join(root, "package-lock.json"));
    if (lockOf(dir).equals(lockOf(ROOT))) {
      // The same lock file: the same dependencies, so the installed ones serve both.
      symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    } else {
      say("installing the baseline's own dependencies (npm ci)");
      execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
    }
  }
  return { ref, commit, dir };
}

/**
 * Runs the baseline's bench in its worktree, with the environment this process was given (not the
 * dev-server settings this commit adds to it), its lines prefixed, and returns its results file,
 * parsed as JSON.
 */
export async function runBaselineBench(baseline: Baseline, quick: boolean): Promise<unknown> {
  const child = spawn(process.execPath, [join("bench", "run.ts")], {
    cwd: baseline.dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...ENVIRONMENT_AS_GIVEN, ATOMIC_BENCH_QUICK: quick ? "1" : "0" },
  });
  const prefix = `[baseline ${baseline.commit.slice(0, 8)}] `;
  createInterface({ input: child.stdout }).on("line", (line) => process.stdout.write(`${prefix}${line}\n`));
  createInterface({ input: child.stderr }).on("line", (line) => process.stderr.write(`${prefix}${line}\n`));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the baseline's bench exited with ${String(code)}`);
  const file = join(baseline.dir, "bench", "results", quick ? "latest-quick.json" : "latest.json");
  return JSON.parse(readFileSync(file, "utf8")) as unknown;
}
