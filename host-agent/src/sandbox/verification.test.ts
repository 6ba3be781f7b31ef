// The pure half of sandbox.verify: limits, the driver's command line, and how a run's output
// becomes a report (or an honest account of why there is none).
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../shared/src/limits.ts";
import type { ExecuteResult } from "../../../shared/src/protocol/sandbox.ts";
import { VerifyReport } from "../../../shared/src/protocol/verification.ts";
import type { LimitPolicy } from "./limits.ts";
import { TEST_POLICY } from "./test-support.ts";
import {
  parseVerifyPayload,
  planVerification,
  readVerifyReport,
  textTail,
  VERIFY_DRIVER,
  VERIFY_MEMORY_FLOOR,
  verificationLimits,
} from "./verification.ts";

const MIB = 1024 * 1024;

const run = (overrides: Partial<ExecuteResult>): ExecuteResult => ({
  exit_code: 0,
  signal: null,
  stdout: "",
  stderr: "",
  truncated: false,
  timed_out: false,
  oom_killed: false,
  duration_ms: 1234,
  ...overrides,
});

const REPORT: VerifyReport = {
  passed: true,
  steps: [
    {
      name: "test",
      command: "python3 -m pytest",
      exit_code: 0,
      timed_out: false,
      duration_ms: 400,
      output: "1 passed",
    },
  ],
  tests: { passed: 1, failed: 0, skipped: 0 },
  failures: [],
  report: "junit",
  duration_ms: 500,
  cpu_ms: 450,
  peak_memory_bytes: 30_000_000,
};

describe("verificationLimits", () => {
  const lowDefaults: LimitPolicy = TEST_POLICY; // 128 MiB by default, 512 MiB at most

  it("gives a verification the host's defaults when they hold enough memory (so the warm pool serves it)", () => {
    const roomy: LimitPolicy = { ...TEST_POLICY, defaults: { ...TEST_POLICY.defaults, memory_bytes: 768 * MIB } };
    expect(verificationLimits(undefined, roomy)).toEqual(roomy.defaults);
  });

  it("raises a lower default memory to the floor, capped by the host's maximum", () => {
    expect(verificationLimits(undefined, lowDefaults).memory_bytes).toBe(VERIFY_MEMORY_FLOOR);
    const small: LimitPolicy = {
      defaults: { ...TEST_POLICY.defaults, memory_bytes: 64 * MIB },
      maxima: { ...TEST_POLICY.maxima, memory_bytes: 256 * MIB },
    };
    expect(verificationLimits(undefined, small).memory_bytes).toBe(256 * MIB);
  });

  it("takes what the payload asks for, and refuses more than the maximum", () => {
    expect(verificationLimits({ memory_bytes: 64 * MIB, timeout_seconds: 5 }, lowDefaults)).toMatchObject({
      memory_bytes: 64 * MIB,
      timeout_seconds: 5,
    });
    expect(() => verificationLimits({ timeout_seconds: 3600 }, lowDefaults)).toThrow(
      "limits.timeout_seconds = 3600 is above this host's maximum of 30",
    );
  });
});

describe("parseVerifyPayload and planVerification", () => {
  it("refuses a payload the contract refuses, as invalid_request", () => {
    expect(() => parseVerifyPayload({ language: "cobol", files: [{ path: "a", content: "" }] })).toThrow(
      expect.objectContaining({
        code: "invalid_request",
        message: expect.stringMatching(/^invalid verify payload: language: /),
      }),
    );
    expect(() => parseVerifyPayload({ language: "python", files: [] })).toThrow(/files: /);
  });

  it("runs the driver with the program's files and the contract's bounds as its settings", () => {
    const program = planVerification(
      {
        language: "typescript",
        files: [
          { path: "./src//app.ts", content: "export const x = 1;\n" },
          { path: "app.test.ts", content: "" },
        ],
        test_command: "npm test",
      },
      { timeoutSeconds: 30, outputLimitBytes: 65_536 },
    );
    expect(program.files.map((file) => file.path)).toEqual(["src/app.ts", "app.test.ts"]);
    expect(new TextDecoder().decode(program.files[0]?.bytes)).toBe("export const x = 1;\n");
    expect(program.argv.slice(0, 2)).toEqual(["python3", VERIFY_DRIVER]);
    expect(JSON.parse(program.argv[2] ?? "")).toEqual({
      language: "typescript",
      test_command: "npm test",
      timeout_seconds: 30,
      output_max_chars: LIMITS.verifyOutputMaxChars,
      max_failures: LIMITS.verifyMaxFailures,
      failure_message_max_chars: LIMITS.verifyFailureMessageMaxChars,
      report_max_bytes: 48 * 1024,
    });
  });

  it("keeps the report inside a smaller stdout capture, and refuses a file given twice", () => {
    const program = planVerification(
      { language: "python", files: [{ path: "a.py", content: "" }] },
      { timeoutSeconds: 10, outputLimitBytes: 16 * 1024 },
    );
    expect(JSON.parse(program.argv[2] ?? "")).toMatchObject({ report_max_bytes: 16 * 1024 - 2 });
    expect(() =>
      planVerification(
        {
          language: "python",
          files: [
            { path: "a.py", content: "" },
            { path: "./a.py", content: "" },
          ],
        },
        { timeoutSeconds: 10, outputLimitBytes: 65_536 },
      ),
    ).toThrow('file "a.py" is given twice');
  });
});

describe("readVerifyReport", () => {
  const limits = { ...TEST_POLICY.defaults, memory_bytes: 512 * MIB, timeout_seconds: 30 };

  it("takes the driver's report from the last line of a run that exited 0, after anything before it", () => {
    const stdout = `junk a test wrote {"passed": false}\n${JSON.stringify(REPORT)}\n`;
    expect(readVerifyReport(run({ stdout }), limits)).toEqual(REPORT);
  });

  it("does not believe a report from a driver that did not exit 0", () => {
    const report = readVerifyReport(
      run({ exit_code: 137, signal: "SIGKILL", stdout: `\n${JSON.stringify(REPORT)}\n`, stderr: "Killed" }),
      limits,
    );
    expect(report).toMatchObject({ passed: false, tests: null, failures: [], report: null, cpu_ms: null });
    expect(report.skipped_reason).toBe(
      "the verification driver was killed by SIGKILL before reporting (a test may have ended it)",
    );
    expect(report.steps).toEqual([
      {
        name: "test",
        command: `python3 ${VERIFY_DRIVER} (the verification driver)`,
        exit_code: 137,
        timed_out: false,
        duration_ms: 1234,
        output: expect.stringMatching(/^Killed\n/),
      },
    ]);
    expect(VerifyReport.safeParse(report).success).toBe(true);
  });

  it("says so when the run timed out, ran out of memory, could not unpack, or the image lacks the driver", () => {
    const reason = (result: Partial<ExecuteResult>) => readVerifyReport(run(result), limits).skipped_reason;
    expect(reason({ exit_code: 137, signal: "SIGKILL", timed_out: true })).toBe(
      "the verification run passed its 30 s limit and was killed before the driver reported",
    );
    expect(reason({ exit_code: 137, signal: "SIGKILL", oom_killed: true })).toBe(
      "the verification run ran out of memory (512 MiB) before the driver reported",
    );
    expect(reason({ exit_code: 125, stderr: "atomic-sandbox: could not unpack the files into /workspace\n" })).toMatch(
      /^the program's files could not be unpacked into \/workspace/,
    );
    expect(
      reason({
        exit_code: 2,
        stderr: `python3: can't open file '${VERIFY_DRIVER}': [Errno 2] No such file or directory\n`,
      }),
    ).toBe(`the sandbox image has no verification driver at ${VERIFY_DRIVER}: rebuild it with npm run sandbox:image`);
    const timedOut = readVerifyReport(run({ exit_code: 137, timed_out: true }), limits);
    expect(timedOut.steps[0]).toMatchObject({ exit_code: null, timed_out: true });
    expect(readVerifyReport(run({ exit_code: 137, oom_killed: true }), limits).peak_memory_bytes).toBe(512 * MIB);
  });

  it("says so when a driver that exited 0 printed nothing usable", () => {
    const reason = (stdout: string, truncated = false) =>
      readVerifyReport(run({ stdout, truncated }), limits).skipped_reason;
    expect(reason("")).toBe("the verification driver gave no usable report: it printed no report");
    expect(reason('{"passed": tr', true)).toBe(
      "the verification driver gave no usable report: its report is not JSON (the output was cut)",
    );
    expect(reason('{"passed": "yes"}')).toMatch(
      /^the verification driver gave no usable report: its report does not match VerifyReport \(passed: /,
    );
  });

  it("keeps the end of a long stderr as the step's output", () => {
    const stderr = `${"x".repeat(10_000)}the end`;
    const report = readVerifyReport(run({ exit_code: 1, stderr }), limits);
    expect(report.steps[0]?.output).toHaveLength(LIMITS.verifyOutputMaxChars);
    expect(report.steps[0]?.output.endsWith("the end")).toBe(true);
  });
});

describe("textTail", () => {
  it("keeps the end, never starting inside a surrogate pair", () => {
    expect(textTail("abc", 5)).toBe("abc");
    expect(textTail("abcdef", 3)).toBe("def");
    expect(textTail("a😀b", 2)).toBe("b");
    expect(textTail("a😀b", 3)).toBe("😀b");
  });
});
