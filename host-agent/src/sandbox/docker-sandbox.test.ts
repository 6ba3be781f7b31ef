// The sandbox against the real engine and the real image, on a warm container and on a cold one:
// what a program gets (files, stdin, args) and what its caller gets back.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ExecuteRequest, ExecuteResult } from "../../../shared/src/protocol/sandbox.ts";
import { createLogger } from "../log.ts";
import { DockerSandbox } from "./docker-sandbox.ts";
import {
  dockerGate,
  ensureSandboxImage,
  labelledContainers,
  SANDBOX_MODES,
  TEST_IMAGE,
  TEST_OUTPUT_LIMIT,
  TEST_RUNTIME,
  useSandbox,
} from "./test-support.ts";

const docker = await dockerGate("host-agent/src/sandbox/docker-sandbox.test.ts");

describe.skipIf(!docker.available).each(SANDBOX_MODES)("docker sandbox ($mode)", ({ warm }) => {
  const { sandbox, agentId } = useSandbox(warm);
  const run = (request: ExecuteRequest, signal?: AbortSignal): Promise<ExecuteResult> =>
    sandbox().execute(request, signal === undefined ? {} : { signal });

  it("reports the engine and image as available", async () => {
    expect(await sandbox().availability()).toEqual({ status: "available", runtime: TEST_RUNTIME });
  });

  it("runs hello world and returns its exact output", async () => {
    const result = await run({ language: "python", code: 'print("hello, world")' });
    expect(result).toMatchObject({
      exit_code: 0,
      signal: null,
      stdout: "hello, world\n",
      stderr: "",
      truncated: false,
      timed_out: false,
      oom_killed: false,
    });
    expect(result.duration_ms).toBeGreaterThan(0);
  });

  it("keeps stderr apart from stdout and reports a non-zero exit code", async () => {
    const result = await run({
      language: "javascript",
      code: 'process.stdout.write("out\\n"); console.error("boom"); process.exit(3);',
    });
    expect(result).toMatchObject({ exit_code: 3, signal: null, stdout: "out\n", stderr: "boom\n" });
  });

  it("reports a program killed by a signal by its signal, adding nothing to its output", async () => {
    const result = await run({ language: "shell", code: "echo before; kill -TERM $$; echo after" });
    expect(result).toMatchObject({ exit_code: 143, signal: "SIGTERM", stdout: "before\n", stderr: "" });
  });

  it("runs a Python program as a fresh `python3 main.py` would: names, paths, its own modules, tracebacks, exits", async () => {
    // The interpreter that runs it was started before the request (supervisor.py): compare it with
    // one started for the program, by the shell, on the same files. signal.py shadows a module the
    // zygote imported; a fresh interpreter imports the program's own.
    const programs = [
      [
        "import os, sys, signal",
        "print(__name__, __file__, sys.argv, sys.path[0], __package__, __spec__, signal.VALUE)",
        "print(sorted(globals()), sys.orig_argv, os.getcwd(), sys.stdout.line_buffering)",
        "def fail():",
        "    raise ValueError('boom')",
        "fail()",
      ].join("\n"),
      "x = (",
      "raise KeyboardInterrupt",
      "import sys\nsys.exit('a message')",
    ];
    for (const code of programs) {
      const files = [
        { path: "main.py", content: code },
        { path: "signal.py", content: "VALUE = 'mine'" },
        // What the supervisor and the zygote import must never come from the program's files.
        ...["tarfile", "threading", "ctypes", "gc"].map((name) => ({
          path: `${name}.py`,
          content: `raise SystemExit("the program's own ${name}.py was imported")`,
        })),
      ];
      const args = ["one", "two words"];
      const warmed = await run({ language: "python", files, args });
      const fresh = await run({
        language: "shell",
        files: [{ path: "run.sh", content: 'exec python3 main.py "$@"' }, ...files],
        args,
      });
      expect({ code, ...warmed, duration_ms: 0 }).toEqual({ code, ...fresh, duration_ms: 0 });
    }
  });

  it("gives the program exactly the request's stdin, and EOF without one", async () => {
    const stdin = "line one\nline two ✓\n\u0000tail without newline";
    const code = "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data.hex())";
    const withInput = await run({ language: "python", code, stdin });
    const bytes = Buffer.from(stdin, "utf8");
    expect(withInput.stdout).toBe(`${bytes.length} ${bytes.toString("hex")}\n`);
    const without = await run({ language: "python", code });
    expect(without.stdout).toBe("0 \n");
  });

  it("streams a large stdin to a program that reads it, and does not stall on one that does not", async () => {
    const stdin = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    const reader = await run({
      language: "python",
      code: "import hashlib, sys\nprint(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
      stdin,
    });
    expect(reader.stdout).toBe(`${createHash("sha256").update(stdin).digest("hex")}\n`);
    const ignorer = await run({ language: "shell", code: "echo not reading", stdin });
    expect(ignorer).toMatchObject({ exit_code: 0, stdout: "not reading\n", timed_out: false });
  });

  it("writes all of one write() of 1 MiB to stdout and to stderr, as Linux does", async () => {
    // gVisor cuts such a write to the container's own stdout short; under runsc the supervisor
    // relays the output through pipes of gVisor's own (supervisor.py, `--relay`).
    const result = await run({
      language: "python",
      code: [
        "import os",
        "out = os.write(1, b'o' * 1048576)",
        "os.write(2, b'%d\\n' % out)",
        "err = os.write(2, b'e' * 1048576)",
        "raise SystemExit(0 if err == 1048576 else 1)",
      ].join("\n"),
    });
    expect(result).toMatchObject({ exit_code: 0, truncated: true, stdout: "o".repeat(TEST_OUTPUT_LIMIT) });
    expect(result.stderr).toBe(`1048576\n${"e".repeat(TEST_OUTPUT_LIMIT - 8)}`);
  });

  it("passes args through unchanged, shell metacharacters included", async () => {
    const args = ["a b", "it's", "$HOME", "*", "`id`", "", "--flag", "é✓"];
    const result = await run({ language: "shell", code: 'printf "[%s]\\n" "$@"', args });
    expect(result.stdout).toBe(args.map((arg) => `[${arg}]\n`).join(""));
  });

  it("runs the entrypoint of several files, each placed byte for byte", async () => {
    const data = "naïve ✓ data\r\nwithout final newline";
    const result = await run({
      language: "python",
      files: [
        { path: "lib/helpers.py", content: "def greet(name):\n    return f'hi {name}'\n" },
        { path: "lib/__init__.py", content: "" },
        { path: "data/input.txt", content: data },
        {
          path: "app/main.py",
          content: [
            "import hashlib, sys",
            "sys.path.insert(0, '/workspace')",
            "from lib.helpers import greet",
            "print(greet(sys.argv[1]))",
            "print(hashlib.sha256(open('/workspace/data/input.txt', 'rb').read()).hexdigest())",
          ].join("\n"),
        },
      ],
      entrypoint: "app/main.py",
      args: ["sandbox"],
    });
    const expected = createHash("sha256").update(data, "utf8").digest("hex");
    expect(result).toMatchObject({ exit_code: 0, stderr: "", stdout: `hi sandbox\n${expected}\n` });
  });

  it("says so when the files do not fit the disk limit", async () => {
    const big = "x".repeat(3 * 1024 * 1024);
    const result = await run({
      language: "shell",
      files: [
        { path: "main.sh", content: "echo ran" },
        { path: "a.txt", content: big },
        { path: "b.txt", content: big },
      ],
      limits: { disk_bytes: 4 * 1024 * 1024 },
    });
    expect(result).toMatchObject({ exit_code: 125, stdout: "" });
    expect(result.stderr).toContain("atomic-sandbox: could not unpack the files into /workspace");
  });

  it("runs javascript modules that require each other", async () => {
    const result = await run({
      language: "javascript",
      files: [
        { path: "index.js", content: "const { twice } = require('./math.js'); console.log(twice(21));" },
        { path: "math.js", content: "exports.twice = (n) => n * 2;" },
      ],
    });
    expect(result).toMatchObject({ exit_code: 0, stdout: "42\n" });
  });

  it("does not mix the output of parallel runs", async () => {
    const ids = ["a", "b", "c", "d", "e", "f"];
    const results = await Promise.all(
      ids.map((id) =>
        run({
          language: "python",
          code: "import sys, time\nword = sys.stdin.read()\nfor i in range(50):\n    print(word, i)\n    time.sleep(0.002)",
          stdin: `run-${id}`,
        }),
      ),
    );
    results.forEach((result, index) => {
      const expected = Array.from({ length: 50 }, (_, i) => `run-${ids[index]} ${i}\n`).join("");
      expect(result).toMatchObject({ exit_code: 0, stdout: expected });
    });
  });

  it("cancels a run when the caller aborts, and removes its container", async () => {
    const abort = new AbortController();
    const running = run({ language: "shell", code: "cat /etc/hostname; sleep 30" }, abort.signal);
    setTimeout(() => abort.abort(), 500);
    await expect(running).rejects.toMatchObject({ code: "cancelled" });
    expect(sandbox().stats().activeRuns).toBe(0);
  });

  it("removes each run's container, including after a timeout", async () => {
    const timedOut = await run({
      language: "shell",
      code: "cat /etc/hostname; sleep 30",
      limits: { timeout_seconds: 1 },
    });
    const hostname = timedOut.stdout.trim();
    expect(hostname).toMatch(/^[0-9a-f]{12}$/);
    // The answer does not wait for the engine to delete the container; it is gone right after.
    await sandbox().removalsSettled();
    const remaining = await labelledContainers(agentId);
    expect(remaining.some((id) => id.startsWith(hostname))).toBe(false);
  });
});

describe.skipIf(!docker.available)("docker sandbox without its image", () => {
  it("reports the image as missing and refuses runs as unavailable, saying how to build it", async () => {
    const sandbox = await DockerSandbox.create({
      image: "atomic-sandbox-missing:test",
      warm: 0,
      agentId: "test-missing",
    });
    try {
      expect(await sandbox.availability()).toEqual({
        status: "unavailable",
        detail: "image atomic-sandbox-missing:test not found: run npm run sandbox:image",
      });
      await expect(sandbox.execute({ language: "python", code: "print(1)" })).rejects.toMatchObject({
        code: "sandbox_unavailable",
        retryable: true,
        message: "image atomic-sandbox-missing:test not found: run npm run sandbox:image",
      });
    } finally {
      await sandbox.close();
    }
  });

  it("keeps a warm pool retrying quietly until closed", async () => {
    const lines: string[] = [];
    const logger = createLogger("warn", {}, (line) => lines.push(line));
    const sandbox = await DockerSandbox.create({
      image: "atomic-sandbox-missing:test",
      warm: 2,
      agentId: "test-missing",
      logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sandbox.stats().poolReady).toBe(0);
    expect(lines.some((line) => line.includes("warm pool could not start a container"))).toBe(true);
    await sandbox.close();
  });
});

describe.skipIf(!docker.available)("docker sandbox cleanup after the answer", () => {
  it("answers before its container goes, and close() does not wait for the delay", async () => {
    await ensureSandboxImage(TEST_IMAGE);
    const agentId = `test-cleanup-${process.pid}`;
    // A delay no test would sit out: close() must cut it short.
    const sandbox = await DockerSandbox.create({
      image: TEST_IMAGE,
      runtime: TEST_RUNTIME,
      warm: 1,
      agentId,
      cleanupDelayMs: 600_000,
    });
    try {
      await sandbox.warmPoolReady();
      const [warmContainer] = await labelledContainers(agentId);
      const result = await sandbox.execute({ language: "shell", code: "echo done" });
      expect(result).toMatchObject({ exit_code: 0, stdout: "done\n" });
      // The answer came first: the run's container is still there.
      expect(await labelledContainers(agentId)).toContain(warmContainer);
    } finally {
      await sandbox.close();
    }
    expect(await labelledContainers(agentId)).toEqual([]);
  });
});
