import { describe, expect, it } from "vitest";
import type { VerifyReport } from "../../shared/src/index.ts";
import { hiddenOutcome, hiddenRunRequest, hiddenTestCommand, isTestFile, reportOf } from "./hidden.ts";

const report = (overrides: Partial<VerifyReport> = {}): VerifyReport => ({
  passed: true,
  steps: [
    { name: "typecheck", command: "tsc", exit_code: 0, timed_out: false, duration_ms: 900, output: "" },
    { name: "test", command: "node --test", exit_code: 0, timed_out: false, duration_ms: 300, output: "ok" },
  ],
  tests: { passed: 4, failed: 0, skipped: 0 },
  failures: [],
  report: "junit",
  duration_ms: 1300,
  cpu_ms: 1000,
  peak_memory_bytes: 1000,
  ...overrides,
});

const executed = (stdout: string) => ({
  exit_code: 0,
  signal: null,
  stdout,
  stderr: "",
  truncated: false,
  timed_out: false,
  oom_killed: false,
  duration_ms: 1500,
});

describe("isTestFile", () => {
  it("knows the runners' test files", () => {
    for (const path of [
      "test_main.py",
      "pkg/test_util.py",
      "util_test.py",
      "conftest.py",
      "main.test.ts",
      "app.spec.js",
      "src/app.test.mjs",
      "tests/helpers.py",
      "test/setup.js",
      "__tests__/a.js",
      "api-test.js",
      "test-utils.ts",
    ]) {
      expect(isTestFile(path), path).toBe(true);
    }
  });

  it("keeps the program's files", () => {
    for (const path of [
      "main.py",
      "testing_tools.py",
      "contest.py",
      "app.ts",
      "package.json",
      "tsconfig.json",
      "src/latest.js",
    ]) {
      expect(isTestFile(path), path).toBe(false);
    }
  });
});

describe("hiddenRunRequest", () => {
  it("puts the program without its tests, the hidden tests in .eval/ and the driver's runner in one shell run", () => {
    const program = [
      { path: "main.ts", content: "export const x = 1;\n" },
      { path: "main.test.ts", content: "// the model's\n" },
      { path: "tsconfig.json", content: "{}\n" },
    ];
    const { request, left_out } = hiddenRunRequest("typescript", program, [{ path: "x.test.ts", content: "t" }], 60);
    expect(left_out).toEqual(["main.test.ts"]);
    expect(request.language).toBe("shell");
    expect(request.entrypoint).toBe(".eval/run.sh");
    const paths = request.files?.map((f) => f.path);
    expect(paths).toEqual(["main.ts", "tsconfig.json", ".eval/x.test.ts", ".eval/settings.json", ".eval/run.sh"]);
    const settings = JSON.parse(request.files?.find((f) => f.path === ".eval/settings.json")?.content ?? "{}");
    expect(settings).toEqual({
      language: "typescript",
      test_command: expect.stringContaining("node --test") as unknown,
      timeout_seconds: 60,
    });
    expect(settings.test_command).toContain('--test-reporter-destination="$ATOMIC_JUNIT_PATH" .eval/x.test.ts');
    expect(request.files?.find((f) => f.path === ".eval/run.sh")?.content).toContain("/usr/local/lib/atomic/verify.py");
    expect(request.limits?.timeout_seconds).toBeGreaterThan(60);
  });

  it("runs only the hidden tests with pytest for Python, quoting odd names", () => {
    const command = hiddenTestCommand("python", [
      { path: "test_a.py", content: "" },
      { path: "test b.py", content: "" },
    ]);
    expect(command).toMatch(
      /^python3 -m pytest .*--junitxml="\$ATOMIC_JUNIT_PATH" \.eval\/test_a\.py '\.eval\/test b\.py'$/,
    );
  });

  it("never lets a program file take the place of the hidden files", () => {
    const { request, left_out } = hiddenRunRequest(
      "python",
      [
        { path: "main.py", content: "" },
        { path: ".eval/run.sh", content: "evil" },
      ],
      [{ path: "test_h.py", content: "" }],
      30,
    );
    expect(left_out).toEqual([".eval/run.sh"]);
    expect(request.files?.filter((f) => f.path === ".eval/run.sh")).toHaveLength(1);
  });
});

describe("reportOf and hiddenOutcome", () => {
  it("reads the report on the driver's last line", () => {
    const stdout = `some output {not json}\n${JSON.stringify(report())}\n`;
    expect(reportOf(stdout)?.tests).toEqual({ passed: 4, failed: 0, skipped: 0 });
    expect(reportOf("no report here\n")).toBeNull();
  });

  it("passes when the driver says passed", () => {
    const outcome = hiddenOutcome(200, executed(`\n${JSON.stringify(report())}\n`), ["main.test.ts"]);
    expect(outcome).toMatchObject({ passed: true, typecheck_ok: true, error: null, left_out: ["main.test.ts"] });
  });

  it("fails on failed tests and on a failed type check, naming them", () => {
    const failing = report({
      passed: false,
      tests: { passed: 3, failed: 1, skipped: 0 },
      failures: [{ name: "x.test.ts > adds", message: "expected 2" }],
    });
    expect(hiddenOutcome(200, executed(JSON.stringify(failing)), [])).toMatchObject({
      passed: false,
      failures: [{ name: "x.test.ts > adds", message: "expected 2" }],
    });
    const typeError = report({ passed: false });
    typeError.steps[0] = { ...typeError.steps[0]!, exit_code: 2 };
    expect(hiddenOutcome(200, executed(JSON.stringify(typeError)), [])).toMatchObject({
      passed: false,
      typecheck_ok: false,
      tests: { passed: 4, failed: 0, skipped: 0 },
    });
  });

  it("says why when there is no verdict", () => {
    expect(hiddenOutcome(503, { error: { code: "sandbox_unavailable" } }, []).error).toMatch(
      /503.*sandbox_unavailable/,
    );
    expect(hiddenOutcome(200, { ...executed(""), timed_out: true }, []).error).toMatch(/timed out/);
    expect(hiddenOutcome(200, "nonsense", []).error).toMatch(/does not parse/);
  });
});
