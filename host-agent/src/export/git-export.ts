import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ExportResult } from "../../../shared/src/index.ts";
import { JobFailure } from "../jobs/job-failure.ts";
import { confinedPath } from "./export-paths.ts";
import type { FetchedFile } from "./fetch-files.ts";

const run = promisify(execFile);

const IDENTITY = {
  GIT_AUTHOR_NAME: "Atomic Orchestrator",
  GIT_AUTHOR_EMAIL: "atomic@localhost",
  GIT_COMMITTER_NAME: "Atomic Orchestrator",
  GIT_COMMITTER_EMAIL: "atomic@localhost",
};

async function git(repo: string, args: string[], env: Record<string, string> = {}, input?: Buffer): Promise<string> {
  const child = run("git", ["-C", repo, ...args], {
    env: { ...process.env, ...IDENTITY, GIT_TERMINAL_PROMPT: "0", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout } = await child;
    return stdout.trim();
  } catch (error) {
    const stderr = error instanceof Error && "stderr" in error ? String(error.stderr).trim() : String(error);
    throw new JobFailure("export_error", `git ${args[0]} failed: ${stderr}`, false);
  }
}

/**
 * Commits the files to `branch` of a local repository under the export root (created if missing)
 * without touching its work tree: the commit is built in a private index and the branch moves
 * with a compare-and-swap, so a concurrent export cannot lose a commit. A repository this export
 * created gets the branch checked out; an existing one with a clean checkout of that branch is
 * brought up to date.
 */
export async function exportToGit(
  root: string,
  pipelineId: string,
  target: { repo?: string; branch?: string; message?: string },
  files: FetchedFile[],
): Promise<ExportResult> {
  await mkdir(root, { recursive: true });
  const repo = confinedPath(root, target.repo ?? "repository", "git repo");
  const branch = target.branch ?? "main";
  const created = !existsSync(join(repo, ".git"));
  if (created) {
    await mkdir(repo, { recursive: true });
    await git(repo, ["init", "-q", "-b", branch]);
  }
  await git(repo, ["check-ref-format", "--branch", branch]);
  const index = join(tmpdir(), `atomic-index-${pipelineId}-${process.pid}-${Date.now()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    let parent: string | null = null;
    try {
      parent = await git(repo, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`]);
    } catch {
      parent = null;
    }
    if (parent) await git(repo, ["read-tree", parent], env);
    for (const file of files) {
      confinedPath(repo, file.path, "file path");
      const blob = await git(repo, ["hash-object", "-w", "--stdin"], env, file.bytes);
      await git(repo, ["update-index", "--add", "--cacheinfo", `100644,${blob},${file.path}`], env);
    }
    const tree = await git(repo, ["write-tree"], env);
    const message = target.message ?? `Export pipeline ${pipelineId}`;
    const commit = await git(repo, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message]);
    // Whether the checkout of this branch is clean must be known before the branch moves.
    const head = await git(repo, ["symbolic-ref", "-q", "HEAD"]).catch(() => "");
    const onBranch = head === `refs/heads/${branch}`;
    const clean =
      onBranch && (parent === null || (await git(repo, ["status", "--porcelain", "--untracked-files=no"])) === "");
    await git(repo, ["update-ref", `refs/heads/${branch}`, commit, ...(parent ? [parent] : ["0".repeat(40)])]);
    if (onBranch && (created || clean)) await git(repo, ["reset", "-q", "--hard", commit]);
    return { type: "git", path: repo, files: files.length, commit, branch };
  } finally {
    await rm(index, { force: true });
  }
}
