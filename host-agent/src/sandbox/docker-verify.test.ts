// `sandbox.verify` against the real engine and the real image: the verification driver type-checks
// and tests Python, JavaScript and TypeScript programs, and whatever a program does, the answer is
// an honest, bounded report.
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../shared/src/limits.ts";
import type { SandboxFile } from "../../../shared/src/protocol/sandbox.ts";
import type { VerifyPayload, VerifyReport, VerifyStep } from "../../../shared/src/protocol/verification.ts";
import type { LimitPolicy } from "./limits.ts";
import { dockerGate, TEST_OUTPUT_LIMIT, TEST_POLICY, TEST_RUNTIME, useSandbox } from "./test-support.ts";
import { VERIFY_MEMORY_FLOOR } from "./verification.ts";

const docker = await dockerGate("host-agent/src/sandbox/docker-verify.test.ts");

const MIB = 1024 * 1024;

/** Defaults a verification fits in (tsc on an express app peaks near 180 MiB), so the warm pool serves them. */
const VERIFY_POLICY: LimitPolicy = {
  defaults: {
    ...TEST_POLICY.defaults,
    memory_bytes: VERIFY_MEMORY_FLOOR,
    disk_bytes: 64 * MIB,
    timeout_seconds: 30,
    max_processes: 100,
  },
  maxima: { ...TEST_POLICY.maxima, memory_bytes: 1024 * MIB, timeout_seconds: 60 },
};

const files = (entries: Record<string, string>): SandboxFile[] =>
  Object.entries(entries).map(([path, content]) => ({ path, content }));

function step(report: VerifyReport, name: VerifyStep["name"]): VerifyStep {
  const found = report.steps.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no ${name} step in ${JSON.stringify(report)}`);
  return found;
}

/** Whatever a report holds, it keeps the contract's bounds and fits the run's kept stdout. */
function expectBounded(report: VerifyReport): void {
  expect(Buffer.byteLength(JSON.stringify(report))).toBeLessThan(Math.min(48 * 1024, TEST_OUTPUT_LIMIT));
  for (const each of report.steps) expect(each.output.length).toBeLessThanOrEqual(LIMITS.verifyOutputMaxChars);
  expect(report.failures.length).toBeLessThanOrEqual(LIMITS.verifyMaxFailures);
  for (const failure of report.failures) {
    expect(failure.message.length).toBeLessThanOrEqual(LIMITS.verifyFailureMessageMaxChars);
  }
}

const PY_APP = "def add(a, b):\n    return a + b\n";

const TS_APP = `import express, { type Request, type Response } from "express";

export interface User {
  id: number;
  name: string;
}

export function createApp() {
  const app = express();
  app.use(express.json());
  const users: User[] = [];
  app.get("/users", (_req: Request, res: Response) => {
    res.json(users);
  });
  app.post("/users", (req: Request, res: Response) => {
    const user: User = { id: users.length + 1, name: String(req.body.name) };
    users.push(user);
    res.status(201).json(user);
  });
  return app;
}
`;

const TS_APP_TEST = `import { test } from "node:test";
import assert from "node:assert/strict";
import request from "supertest";
import { createApp } from "./app.ts";

const app = createApp();
// Top-level await: Node runs this file as an ES module, and tsc must check it as one.
await request(app).post("/users").send({ name: "ada" }).expect(201);

test("lists the users created", async () => {
  const list = await request(app).get("/users").expect(200);
  assert.deepEqual(list.body, [{ id: 1, name: "ada" }]);
});

test("creates a user", async () => {
  const created = await request(app).post("/users").send({ name: "grace" }).expect(201);
  assert.equal(created.body.name, "grace");
});
`;

describe.skipIf(!docker.available)("sandbox.verify in the real sandbox", () => {
  const { sandbox } = useSandbox(2, VERIFY_POLICY);
  const verify = (payload: VerifyPayload, signal?: AbortSignal): Promise<VerifyReport> =>
    sandbox().verify(payload, signal === undefined ? {} : { signal });

  it("passes a Python program whose tests pass, with counts, CPU time and peak memory, on a warm container", async () => {
    const warmBefore = sandbox().stats().warmRuns;
    const report = await verify({
      language: "python",
      files: files({
        "app.py": PY_APP,
        "test_app.py":
          "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n\ndef test_zero():\n    assert add(0, 0) == 0\n",
      }),
    });
    expect(report).toMatchObject({
      passed: true,
      tests: { passed: 2, failed: 0, skipped: 0 },
      failures: [],
      report: "junit",
    });
    expect(report.skipped_reason).toBeUndefined();
    expect(step(report, "typecheck")).toMatchObject({
      command: "python3 -m py_compile app.py test_app.py",
      exit_code: 0,
      timed_out: false,
    });
    expect(step(report, "test")).toMatchObject({
      command: "python3 -m pytest -q -p no:cacheprovider --junitxml=/tmp/atomic-junit.xml",
      exit_code: 0,
    });
    expect(step(report, "test").output).toContain("2 passed");
    if (TEST_RUNTIME === "runsc") {
      // gVisor shows the program no cgroup files: the driver reports no CPU time or peak memory.
      expect(report).toMatchObject({ cpu_ms: null, peak_memory_bytes: null });
    } else {
      expect(report.cpu_ms).toBeGreaterThan(0);
      expect(report.peak_memory_bytes).toBeGreaterThan(MIB);
    }
    expect(report.duration_ms).toBeGreaterThan(0);
    expect(sandbox().stats().warmRuns).toBe(warmBefore + 1);
  });

  it("names each failing Python test and its message", async () => {
    const report = await verify({
      language: "python",
      files: files({
        "app.py": PY_APP,
        "tests/test_app.py": [
          "import pytest",
          "from app import add",
          "",
          "def test_add():",
          "    assert add(1, 2) == 3",
          "",
          "def test_wrong():",
          "    assert add(1, 1) == 3",
          "",
          "class TestErrors:",
          "    def test_raises(self):",
          "        raise ValueError('bad <input> & more')",
          "",
          "@pytest.mark.skip(reason='later')",
          "def test_later():",
          "    pass",
          "",
        ].join("\n"),
      }),
    });
    expect(report).toMatchObject({ passed: false, tests: { passed: 1, failed: 2, skipped: 1 }, report: "junit" });
    expect(report.failures).toEqual([
      { name: "tests.test_app.test_wrong", message: expect.stringContaining("assert 2 == 3") },
      { name: "tests.test_app.TestErrors.test_raises", message: "ValueError: bad <input> & more" },
    ]);
    expect(step(report, "test").exit_code).toBe(1);
    expect(step(report, "test").output).toContain("2 failed, 1 passed, 1 skipped");
  });

  it("does not pass a Python program without tests, and says what it looked for", async () => {
    const report = await verify({ language: "python", files: files({ "app.py": PY_APP }) });
    expect(report).toMatchObject({ passed: false, tests: null, failures: [], report: null });
    expect(report.skipped_reason).toMatch(/^no tests found: pytest collected no tests \(it looks for test_\*\.py/);
    expect(step(report, "test").exit_code).toBe(5);
  });

  it("runs node:test for JavaScript: a passing program passes, a failing one names its failure", async () => {
    const math = "exports.twice = (n) => n * 2;\n";
    const tests = (expected: number) =>
      [
        "const test = require('node:test');",
        "const assert = require('node:assert');",
        "const { twice } = require('./math.js');",
        "test('doubles', () => assert.strictEqual(twice(2), 4));",
        `test('doubles again', () => assert.strictEqual(twice(3), ${expected}));`,
        "",
      ].join("\n");
    const passing = await verify({
      language: "javascript",
      files: files({ "math.js": math, "math.test.js": tests(6) }),
    });
    expect(passing).toMatchObject({ passed: true, tests: { passed: 2, failed: 0, skipped: 0 }, report: "junit" });
    expect(step(passing, "typecheck")).toMatchObject({
      command: "node --check, on each of: math.js math.test.js",
      exit_code: 0,
    });
    expect(step(passing, "test").command).toMatch(/^node --test --test-concurrency=\d+ --test-reporter=spec /);

    const failing = await verify({
      language: "javascript",
      files: files({ "math.js": math, "math.test.js": tests(7) }),
    });
    expect(failing).toMatchObject({ passed: false, tests: { passed: 1, failed: 1, skipped: 0 } });
    expect(failing.failures).toEqual([
      { name: "math.test.js > doubles again", message: expect.stringContaining("6 !== 7") },
    ]);
  });

  it("catches a TypeScript type error with tsc, and still runs the tests", async () => {
    const report = await verify({
      language: "typescript",
      files: files({
        "math.ts": "export function twice(n: number): number {\n  const label: string = n;\n  return n * 2;\n}\n",
        "math.test.ts": [
          'import { test } from "node:test";',
          'import assert from "node:assert/strict";',
          'import { twice } from "./math.ts";',
          'test("doubles", () => assert.equal(twice(2), 4));',
          "",
        ].join("\n"),
      }),
    });
    const typecheck = step(report, "typecheck");
    expect(typecheck.command).toMatch(/^tsc --noEmit -p \/tmp\/atomic-tsconfig\.json --pretty false \(/);
    expect(typecheck.exit_code).not.toBe(0);
    expect(typecheck.output).toContain("math.ts(2,9): error TS2322: Type 'number' is not assignable to type 'string'.");
    // The types are wrong but the code runs: the tests pass, and the report still does not.
    expect(report).toMatchObject({ passed: false, tests: { passed: 1, failed: 0, skipped: 0 } });
  }, 60_000);

  it("passes a TypeScript express app tested with supertest, with no setup in the program", async () => {
    const report = await verify({
      language: "typescript",
      files: files({ "app.ts": TS_APP, "app.test.ts": TS_APP_TEST }),
    });
    expect(step(report, "typecheck")).toMatchObject({ exit_code: 0, output: "" });
    expect(report).toMatchObject({ passed: true, tests: { passed: 2, failed: 0, skipped: 0 }, failures: [] });
    if (TEST_RUNTIME === "runc") expect(report.peak_memory_bytes).toBeLessThan(VERIFY_MEMORY_FLOOR);
  }, 60_000);

  it("records a test command that tries to escape as a failure: no network, read-only root, nothing of the host", async () => {
    const attempts = [
      `python3 -c "import socket; socket.create_connection(('1.1.1.1', 443), timeout=5)" && echo ESCAPED-network`,
      `python3 -c "import socket; socket.getaddrinfo('registry.npmjs.org', 443)" && echo ESCAPED-dns`,
      "echo x > /etc/escape && echo ESCAPED-etc",
      "echo x > /usr/local/lib/atomic/verify.py && echo ESCAPED-driver",
      "echo x > /node_modules/express/index.js && echo ESCAPED-libraries",
      "test -e /var/run/docker.sock && echo ESCAPED-docker-socket",
      "cat /etc/shadow && echo ESCAPED-shadow",
      "ls /proc/1/root/ >/dev/null && cat /proc/1/root/etc/hostname >/dev/null && test -e /proc/1/root/work && echo ESCAPED-host-root",
      "echo still-here",
      "exit 1",
    ];
    const report = await verify({
      language: "python",
      files: files({ "app.py": PY_APP }),
      test_command: attempts.join("; "),
    });
    const test = step(report, "test");
    expect(report).toMatchObject({ passed: false, tests: null, report: null });
    expect(test).toMatchObject({ exit_code: 1, timed_out: false });
    expect(test.output).not.toContain("ESCAPED");
    expect(test.output).toContain("still-here");
    // gVisor checks permissions before the read-only mount and has no route rather than no network.
    expect(test.output).toContain(TEST_RUNTIME === "runsc" ? "Permission denied" : "Read-only file system");
    expect(test.output).toMatch(/Network is unreachable|No route to host|Temporary failure in name resolution/);
  });

  it("kills a test that never ends at the deadline and reports it timed out", async () => {
    const started = performance.now();
    const report = await verify({
      language: "javascript",
      files: files({
        "hang.test.js":
          "require('node:test')('waits forever', () => new Promise(() => setInterval(() => {}, 1000)));\n",
      }),
      limits: { timeout_seconds: 6 },
    });
    const elapsed = performance.now() - started;
    expect(report).toMatchObject({ passed: false, tests: null, report: null });
    expect(step(report, "test")).toMatchObject({ exit_code: null, timed_out: true });
    expect(step(report, "test").output).toContain("killed: the step's deadline passed");
    expect(elapsed).toBeLessThan(8000);
  });

  it("keeps a flood of output bounded, and so the report", async () => {
    const report = await verify({
      language: "python",
      files: files({ "app.py": PY_APP }),
      test_command: "yes 'flood of output ✓' | head -c 50000000; echo the-end",
    });
    const test = step(report, "test");
    expect(report).toMatchObject({ passed: true, tests: null, report: null });
    expect(test.output.length).toBeLessThanOrEqual(LIMITS.verifyOutputMaxChars);
    expect(test.output).toMatch(/^\[\.\.\. earlier output not kept\]\n/);
    expect(test.output.endsWith("flood of output ✓\nthe-end\n")).toBe(true);
    expectBounded(report);
  });

  it("keeps many long failures within the contract's bounds", async () => {
    const report = await verify({
      language: "python",
      files: files({
        "test_many.py": [
          "import pytest",
          "",
          "@pytest.mark.parametrize('n', range(40))",
          "def test_long(n):",
          "    assert False, 'é' * 5000",
          "",
        ].join("\n"),
      }),
    });
    expect(report).toMatchObject({ passed: false, tests: { passed: 0, failed: 40, skipped: 0 } });
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures[0]?.name).toBe("test_many.test_long[0]");
    expectBounded(report);
  });

  it("counts the counts from a test command's JUnit report when it writes one", async () => {
    const junit =
      '<testsuite><testcase classname="suite" name="ok"/><testcase classname="suite" name="bad">' +
      '<failure message="expected 1, got 2"/></testcase></testsuite>';
    const report = await verify({
      language: "python",
      files: files({ "report.xml": junit }),
      test_command: 'cp report.xml "$ATOMIC_JUNIT_PATH"',
    });
    expect(report).toMatchObject({
      passed: false,
      tests: { passed: 1, failed: 1, skipped: 0 },
      failures: [{ name: "suite.bad", message: "expected 1, got 2" }],
      report: "junit",
    });
  });

  it("does not believe a report forged by a test that kills the driver", async () => {
    const forged = JSON.stringify({
      passed: true,
      steps: [],
      tests: { passed: 1, failed: 0, skipped: 0 },
      failures: [],
      report: "junit",
      duration_ms: 1,
      cpu_ms: null,
      peak_memory_bytes: null,
    });
    const report = await verify({
      language: "python",
      files: files({ "forged.json": forged }),
      test_command: `(printf '\\n'; cat forged.json; printf '\\n') > /proc/1/fd/1; kill -9 $PPID; sleep 5`,
    });
    expect(report.passed).toBe(false);
    expect(report.skipped_reason).toBe(
      "the verification driver was killed by SIGKILL before reporting (a test may have ended it)",
    );
  });

  it("leaves nothing running after a step: a background writer cannot follow the report", async () => {
    const report = await verify({
      language: "python",
      files: files({ "app.py": PY_APP }),
      test_command: "(while true; do echo late-line; sleep 0.05; done) & sleep 0.2; exit 0",
    });
    expect(report).toMatchObject({ passed: true, tests: null });
    expect(step(report, "test").output).toContain("late-line");
  });

  it("cancels a verification when the caller aborts", async () => {
    const abort = new AbortController();
    const running = verify(
      { language: "python", files: files({ "app.py": PY_APP }), test_command: "sleep 30" },
      abort.signal,
    );
    setTimeout(() => abort.abort(), 1000);
    await expect(running).rejects.toMatchObject({ code: "cancelled" });
  });
});
