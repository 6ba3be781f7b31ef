import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exportToFilesystem } from "./filesystem-export.ts";
import { exportToGit } from "./git-export.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), "atomic-export-"));
  dirs.push(dir);
  return dir;
}
const files = (entries: Record<string, string>) =>
  Object.entries(entries).map(([path, text]) => ({ path, bytes: Buffer.from(text) }));
const git = (repo: string, ...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" }).trim();

describe("filesystem export", () => {
  it("writes the files under <root>/<pipeline id>/ and replaces an earlier export whole", async () => {
    const root = tempRoot();
    const first = await exportToFilesystem(
      root,
      "p1",
      undefined,
      files({ "main.py": "print(1)\n", "lib/util.py": "X = 1\n", "old.txt": "gone\n" }),
    );
    expect(first).toEqual({ type: "filesystem", path: join(root, "p1"), files: 3 });
    expect(readFileSync(join(root, "p1/lib/util.py"), "utf8")).toBe("X = 1\n");
    await exportToFilesystem(root, "p1", undefined, files({ "main.py": "print(2)\n" }));
    expect(readdirSync(join(root, "p1"))).toEqual(["main.py"]);
    expect(readFileSync(join(root, "p1/main.py"), "utf8")).toBe("print(2)\n");
    expect(readdirSync(root)).toEqual(["p1"]);
  });

  it("writes to a relative path inside the root", async () => {
    const root = tempRoot();
    const result = await exportToFilesystem(root, "p2", "projects/demo", files({ "a.js": "1\n" }));
    expect(result.path).toBe(join(root, "projects/demo"));
    expect(readFileSync(join(root, "projects/demo/a.js"), "utf8")).toBe("1\n");
  });

  it("refuses every path that escapes the root, and writes nothing", async () => {
    const root = tempRoot();
    const outside = tempRoot();
    symlinkSync(outside, join(root, "link-out"));
    for (const path of ["../escape", "/etc/x", "a/../../b", "link-out/x"]) {
      await expect(exportToFilesystem(root, "p3", path, files({ "a.txt": "x" }))).rejects.toMatchObject({
        code: "invalid_request",
      });
    }
    await expect(exportToFilesystem(root, "p3", undefined, files({ "../../evil.txt": "x" }))).rejects.toMatchObject({
      code: "invalid_request",
    });
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(root)).toEqual(["link-out"]);
  });
});

describe("git export", () => {
  it("creates the repository, commits on the branch with the message, and checks it out", async () => {
    const root = tempRoot();
    const result = await exportToGit(
      root,
      "p4",
      { repo: "app", branch: "generated", message: "Add the app" },
      files({ "main.py": "print(1)\n", "src/x.py": "y\n" }),
    );
    const repo = join(root, "app");
    expect(result).toMatchObject({ type: "git", path: repo, files: 2, branch: "generated" });
    expect(git(repo, "rev-parse", "refs/heads/generated")).toBe(result.commit);
    expect(git(repo, "log", "-1", "--format=%s", "generated")).toBe("Add the app");
    expect(git(repo, "ls-tree", "-r", "--name-only", "generated").split("\n")).toEqual(["main.py", "src/x.py"]);
    expect(readFileSync(join(repo, "main.py"), "utf8")).toBe("print(1)\n");
  });

  it("adds a commit on top of the branch of an existing repository and keeps its other files", async () => {
    const root = tempRoot();
    const repo = join(root, "existing");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "README"), "hi\n");
    git(repo, "add", "README");
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]);
    const before = git(repo, "rev-parse", "HEAD");
    const result = await exportToGit(root, "p5", { repo: "existing" }, files({ "gen.py": "pass\n" }));
    expect(git(repo, "rev-parse", "HEAD~1")).toBe(before);
    expect(git(repo, "rev-parse", "HEAD")).toBe(result.commit);
    expect(git(repo, "log", "-1", "--format=%s")).toBe("Export pipeline p5");
    expect(git(repo, "ls-tree", "-r", "--name-only", "HEAD").split("\n")).toEqual(["README", "gen.py"]);
    expect(readFileSync(join(repo, "gen.py"), "utf8")).toBe("pass\n");
    expect(git(repo, "status", "--porcelain")).toBe("");
  });

  it("refuses a repository path outside the root", async () => {
    const root = tempRoot();
    await expect(exportToGit(root, "p6", { repo: "../elsewhere" }, files({ a: "b" }))).rejects.toMatchObject({
      code: "invalid_request",
    });
  });
});
