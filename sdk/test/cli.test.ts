import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../shared/src/index.ts";
import { freePort, startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent } from "../../test/support/fake-agent.ts";
import { AtomicClient } from "../src/index.ts";
import { atomic } from "./cli-support.ts";
import { waitUntil } from "./helpers.ts";

/**
 * The `atomic` CLI piped (no terminal), against the real edge with a test playing the host-agent:
 * plain lines without control codes, --json, and the exit codes scripts branch on.
 */

let edge: EdgeHandle;
let agent: FakeAgent;
let client: AtomicClient;
let env: Record<string, string>;
const dirs: string[] = [];
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000", ATOMIC_MAX_CONCURRENT: "8" });
  agent = await FakeAgent.link(edge, {
    capacity: 8,
    kinds: ["llm.generate", "llm.repair", "sandbox.verify", "sandbox.execute"],
    docker: true,
  });
  client = new AtomicClient({ baseUrl: edge.url });
  env = { ATOMIC_URL: edge.url };
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "atomic-cli-"));
  dirs.push(dir);
  return dir;
}

const PROGRAM = [
  "Here it is:\n\n```python main.py\nprint(",
  '"Hello")\n```\n\n',
  "```python util/add.py\ndef add(a, b):\n    return a + b\n```\n",
];
// Any ESC (colours, cursor moves, erased lines) or carriage return.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u001b\r]/;

function report(passed: boolean): VerifyReport {
  return {
    passed,
    steps: [
      { name: "test", command: "pytest", exit_code: passed ? 0 : 1, timed_out: false, duration_ms: 300, output: "" },
    ],
    tests: { passed: passed ? 3 : 2, failed: passed ? 0 : 1, skipped: 0 },
    failures: passed ? [] : [{ name: "test_add", message: "assert 0 == 3" }],
    report: "junit",
    duration_ms: 310,
    cpu_ms: null,
    peak_memory_bytes: null,
  };
}

describe("atomic generate, piped", () => {
  it("prints plain progress lines on stderr, the program on stdout, writes --out, exits 0", async () => {
    const out = tempDir();
    const run = atomic(["generate", "Hello World in Python", "--language", "python", "--out", out], env);
    agent.generate(await agent.nextJob(), PROGRAM);
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(0);
    expect(stdout).toBe(PROGRAM.join(""));
    expect(stderr).not.toMatch(CONTROL);
    expect(stdout).not.toMatch(CONTROL);
    expect(stderr).toMatch(/pipeline [0-9a-f-]{36} queued/);
    expect(stderr).toContain("GENERATING started");
    expect(stderr).toContain("PACKAGING completed");
    expect(stderr).toMatch(/COMPLETED in \d/);
    expect(stderr).toContain("verification not requested");
    expect(stderr).toContain(`files: 2 written to ${out}: main.py, util/add.py`);
    expect(readFileSync(join(out, "util", "add.py"), "utf8")).toContain("def add");
  });

  it("--json prints the result as JSON and nothing else on stdout", async () => {
    const out = tempDir();
    const run = atomic(["generate", "Hello World in Python", "--language", "python", "--json", "--out", out], env);
    agent.generate(await agent.nextJob(), PROGRAM);
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ success: true, state: "COMPLETED", content: PROGRAM.join(""), verified: false });
    expect(result.pipeline_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.request_id).toEqual(expect.any(String));
    expect(result.files).toEqual([join(out, "main.py"), join(out, "util", "add.py")]);
    expect(stderr).toBe("");
  });

  it("--verify: exits 0 when verified, 3 when the tests still fail after the repairs allowed", async () => {
    const verified = atomic(["generate", "add in Python", "-l", "python", "--verify"], env);
    agent.generate(await agent.nextJob(), PROGRAM);
    agent.result(await agent.nextJob("sandbox.verify"), 0, report(true));
    const good = await verified.exited;
    expect(good.stderr).toContain("verified: tests passed in the sandbox (3 passed, 0 failed, 0 skipped), no repairs");
    expect(good.code).toBe(0);

    const failing = atomic(
      ["generate", "add in Python", "-l", "python", "--verify", "--max-repairs", "0", "--json"],
      env,
    );
    agent.generate(await agent.nextJob(), PROGRAM);
    agent.result(await agent.nextJob("sandbox.verify"), 0, report(false));
    const bad = await failing.exited;
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      success: true,
      verified: false,
      verification: { status: "failed", repairs: 0, tests: { passed: 2, failed: 1 } },
    });
  });

  it("a failed pipeline exits 1 with its code, on stderr and (--json) on stdout", async () => {
    const run = atomic(["generate", "fails"], env);
    agent.fail(await agent.nextJob(), "llm_error", "the model answered nonsense", false);
    const { code, stdout, stderr } = await run.exited;
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("FAILED: llm_error: the model answered nonsense");

    const json = atomic(["generate", "fails", "--json"], env);
    agent.fail(await agent.nextJob(), "llm_error", "again", false);
    const answer = await json.exited;
    expect(answer.code).toBe(1);
    expect(JSON.parse(answer.stdout)).toMatchObject({ success: false, error: { code: "llm_error", message: "again" } });
  });

  it("usage errors exit 2: an unknown flag, a missing prompt, a bad choice, a blank prompt the API refuses", async () => {
    const usages = [
      ["generate", "x", "--bogus"],
      ["generate"],
      ["generate", "x", "--priority", "urgent"],
      ["generate", "x", "--max-repairs", "many"],
      ["ls", "--state", "DONE"],
      ["frobnicate"],
    ];
    const runs = await Promise.all(usages.map((args) => atomic(args, env).exited));
    runs.forEach(({ code, stdout, stderr }, i) => {
      expect({ args: usages[i], code }).toEqual({ args: usages[i], code: 2 });
      expect(stdout).toBe("");
      expect(stderr).toMatch(/error: /);
    });
    const blank = await atomic(["generate", "   "], env).exited;
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain("invalid_request");
  });

  it("--help and --version exit 0", async () => {
    const help = await atomic(["generate", "--help"]).exited;
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--max-repairs <n>");
    const version = await atomic(["--version"]).exited;
    expect(version).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });
});

describe("atomic follow, show, ls, cancel", () => {
  it("follow replays a finished pipeline and exits with its outcome; show prints it and downloads its files", async () => {
    const pending = client.generate({ prompt: "to follow", metadata: { language: "python" } });
    agent.generate(await agent.nextJob(), PROGRAM);
    const { pipeline_id: id } = await pending;

    const followed = await atomic(["follow", id], env).exited;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(PROGRAM.join(""));
    expect(followed.stderr).toContain("GENERATING completed");

    const out = tempDir();
    const shown = await atomic(["show", id, "--out", out], env).exited;
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`pipeline: +${id}`));
    expect(shown.stdout).toMatch(/state: +COMPLETED/);
    expect(shown.stdout).toMatch(/GENERATING +completed/);
    expect(shown.stdout).toMatch(/util\/add\.py +\d+ B/);
    expect(shown.stdout).not.toMatch(CONTROL);
    expect(existsSync(join(out, "main.py"))).toBe(true);
    const json = await atomic(["show", id, "--json"], env).exited;
    expect(JSON.parse(json.stdout)).toMatchObject({ pipeline_id: id, state: "COMPLETED" });
  });

  it("follow of a running pipeline shows its progress; Ctrl-C stops following (exit 130) and leaves it running", async () => {
    const accepted = await fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "followed, then left", async: true }),
    });
    const { pipeline_id: id } = (await accepted.json()) as { pipeline_id: string };
    const job = await agent.nextJob();
    const run = atomic(["follow", id], env);
    await waitUntil(() => run.stderr().includes("GENERATING started"), 10_000, "the follow to show GENERATING");
    run.interrupt();
    const { code, stderr } = await run.exited;
    expect(code).toBe(130);
    expect(stderr).toContain(`stopped following: pipeline ${id} goes on; follow it with: atomic follow ${id}`);
    expect((await client.pipelines.get(id)).state).toBe("GENERATING");
    agent.generate(job, PROGRAM);
  });

  it("a pipeline that does not exist exits 4 (show, follow, cancel)", async () => {
    const id = crypto.randomUUID();
    const commands = ["show", "follow", "cancel"];
    const runs = await Promise.all(commands.map((command) => atomic([command, id], env).exited));
    runs.forEach(({ code, stderr }, i) => {
      expect({ command: commands[i], code }).toEqual({ command: commands[i], code: 4 });
      expect(stderr).toContain("not_found");
    });
  });

  it("ls lists the pipelines newest first as a table; --state filters; --json prints the rows", async () => {
    const pending = client.generate({ prompt: "listed last\nsecond line" });
    agent.generate(await agent.nextJob(), PROGRAM);
    const { pipeline_id: id } = await pending;
    const { code, stdout } = await atomic(["ls", "--limit", "3"], env).exited;
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PIPELINE +STATE +STAGE +CREATED +TOOK +VERIFIED +PROMPT$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^${id} +COMPLETED +- +\\S+ ago +\\S+ +- +listed last$`));
    const failing = client.generate({ prompt: "fails, for ls" }).catch((e: unknown) => e);
    agent.fail(await agent.nextJob(), "llm_error", "no", false);
    await failing;
    const failed = await atomic(["ls", "--state", "failed", "--json"], env).exited;
    const rows = JSON.parse(failed.stdout) as Array<{ state: string }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(["FAILED"]));
  });

  it("cancel cancels a running pipeline (exit 0), and a second time is a conflict (exit 1)", async () => {
    const accepted = await fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "to cancel", async: true }),
    });
    const { pipeline_id: id } = (await accepted.json()) as { pipeline_id: string };
    await agent.nextJob();
    const first = await atomic(["cancel", id], env).exited;
    expect(first).toMatchObject({ code: 0, stdout: `pipeline ${id}: CANCELLED\n` });
    const again = await atomic(["cancel", id], env).exited;
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("conflict");
  });
});

describe("atomic run, health", () => {
  it("run sends the file and its arguments, prints the program's output and exits with its exit code", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "hello.py"), "import sys\nprint('hi', sys.argv[1:])\n");
    const run = atomic(["run", join(dir, "hello.py"), "--", "--name", "World"], env);
    const job = await agent.nextJob("sandbox.execute");
    expect(job.payload).toMatchObject({
      language: "python",
      files: [{ path: "hello.py", content: "import sys\nprint('hi', sys.argv[1:])\n" }],
      entrypoint: "hello.py",
      args: ["--name", "World"],
    });
    agent.result(job, 0, {
      exit_code: 3,
      signal: null,
      stdout: "hi ['--name', 'World']\n",
      stderr: "a warning\n",
      truncated: false,
      timed_out: false,
      oom_killed: false,
      duration_ms: 12,
    });
    expect(await run.exited).toEqual({ code: 3, stdout: "hi ['--name', 'World']\n", stderr: "a warning\n" });

    const unknown = await atomic(["run", join(dir, "hello.rb")], env).exited;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--language");
  });

  it("health prints the edge's state and exits 0 when ok, 1 when the edge cannot be reached", async () => {
    const ok = await atomic(["health"], env).exited;
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok · /);
    expect(ok.stdout).toContain("agents: 1");
    expect(JSON.parse((await atomic(["health", "--json"], env).exited).stdout)).toMatchObject({ status: "ok" });

    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await atomic(["health", "--url", closed], env).exited;
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach ${closed} (ECONNREFUSED): is the edge running`);
  });
});
