/**
 * Hidden tests: the program's files and the task's hidden tests in one sandbox run through
 * `POST /api/execute` (language "shell"), which starts the image's verification driver
 * (/usr/local/lib/atomic/verify.py) with a test command that runs only the hidden tests. The driver
 * type-checks the program as VERIFYING does and prints one VerifyReport on its last line.
 *
 * The hidden tests live in `.eval/`: the driver's type check, like tsc's default `include`, skips
 * dot folders, so they are never type-checked against the program's own settings; only the
 * program is. The model's own tests are left out, so that neither their failures nor their
 * type errors decide the hidden verdict.
 */
import {
  ExecuteResult,
  VerifyReport,
  type ExecuteRequest,
  type SandboxFile,
  type TestCounts,
} from "../../shared/src/index.ts";
import type { EvalLanguage, HiddenFile } from "./task.ts";

export const HIDDEN_DIR = ".eval";
export const DRIVER = "/usr/local/lib/atomic/verify.py";
const RUNNER = `${HIDDEN_DIR}/run.sh`;
const SETTINGS = `${HIDDEN_DIR}/settings.json`;

const TEST_FOLDERS = new Set(["test", "tests", "__tests__", "spec"]);
const TEST_NAMES = [
  // pytest's files, and its conftest (fixtures of the model's tests)
  /^test_.*\.py$/,
  /_test\.py$/,
  /^conftest\.py$/,
  // node --test's defaults, and the usual spec names
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /[-_]test\.[cm]?[jt]sx?$/,
  /^test[-.]/,
];

/** Whether a file of the program is one of its own tests (by the runners' naming conventions). */
export function isTestFile(path: string): boolean {
  const parts = path.split("/");
  const name = parts.at(-1) ?? path;
  if (parts.slice(0, -1).some((dir) => TEST_FOLDERS.has(dir))) return true;
  return TEST_NAMES.some((pattern) => pattern.test(name));
}

function shellQuote(word: string): string {
  return /^[\w./=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that runs only the hidden tests, writing the JUnit report the driver reads. */
export function hiddenTestCommand(language: EvalLanguage, hidden: readonly HiddenFile[]): string {
  const paths = hidden.map((file) => shellQuote(`${HIDDEN_DIR}/${file.path}`)).join(" ");
  if (language === "python") {
    // `python3 -m` puts /workspace on sys.path; `-o addopts=` ignores options a model's pytest.ini adds.
    return `python3 -m pytest -q -p no:cacheprovider -o addopts= --junitxml="$ATOMIC_JUNIT_PATH" ${paths}`;
  }
  return (
    "node --test --test-reporter=spec --test-reporter-destination=stdout " +
    `--test-reporter=junit --test-reporter-destination="$ATOMIC_JUNIT_PATH" ${paths}`
  );
}

export interface HiddenRun {
  request: ExecuteRequest;
  /** The program's own test files, left out of the run. */
  left_out: string[];
}

/** The `/api/execute` request of one hidden run. */
export function hiddenRunRequest(
  language: EvalLanguage,
  program: readonly SandboxFile[],
  hidden: readonly HiddenFile[],
  timeoutS: number,
): HiddenRun {
  const left_out: string[] = [];
  const kept: SandboxFile[] = [];
  for (const file of program) {
    if (isTestFile(file.path) || file.path === HIDDEN_DIR || file.path.startsWith(`${HIDDEN_DIR}/`))
      left_out.push(file.path);
    else kept.push({ path: file.path, content: file.content });
  }
  const settings = { language, test_command: hiddenTestCommand(language, hidden), timeout_seconds: timeoutS };
  const files: SandboxFile[] = [
    ...kept,
    ...hidden.map((file) => ({ path: `${HIDDEN_DIR}/${file.path}`, content: file.content })),
    { path: SETTINGS, content: JSON.stringify(settings) },
    { path: RUNNER, content: `cd /workspace || exit 1\nexec python3 ${DRIVER} "$(cat ${SETTINGS})"\n` },
  ];
  return {
    request: {
      language: "shell",
      files,
      entrypoint: RUNNER,
      // Room beyond the driver's own limit for the container to start and the report to come back.
      limits: { timeout_seconds: timeoutS + 15, memory_bytes: 1024 * 1024 * 1024, cpu_millicores: 2000 },
    },
    left_out,
  };
}

/** The driver's report: the last line of its stdout that parses as a VerifyReport. */
export function reportOf(stdout: string): VerifyReport | null {
  const lines = stdout.split("\n").filter((line) => line.trim() !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (!line.trimStart().startsWith("{")) continue;
    try {
      const report = VerifyReport.safeParse(JSON.parse(line));
      if (report.success) return report.data;
    } catch {
      // Not JSON: an earlier line may be the report.
    }
  }
  return null;
}

/** What the hidden tests said about one set of files. */
export interface HiddenOutcome {
  /** The program type-checked (or its language has none), and the hidden tests ran and none failed. */
  passed: boolean;
  /** The hidden tests' counts, or null when they did not run or reported nothing. */
  tests: TestCounts | null;
  /** The program's type check (null: no check ran). */
  typecheck_ok: boolean | null;
  /** Names of the hidden tests that failed, and the start of each message. */
  failures: Array<{ name: string; message: string }>;
  /** Why there is no verdict from the tests themselves (the run failed, no report, no tests found). */
  error: string | null;
  /** The program's own test files, left out. */
  left_out: string[];
  /** The sandbox run, from the host-agent's report. */
  duration_ms: number | null;
}

/** The outcome of a hidden run from what `/api/execute` answered. */
export function hiddenOutcome(status: number, body: unknown, left_out: string[]): HiddenOutcome {
  const base = { tests: null, typecheck_ok: null, failures: [], left_out, duration_ms: null };
  if (status !== 200) {
    const message =
      typeof body === "object" && body !== null && "error" in body ? JSON.stringify(body.error) : String(status);
    return { ...base, passed: false, error: `/api/execute answered ${status}: ${message.slice(0, 300)}` };
  }
  const result = ExecuteResult.safeParse(body);
  if (!result.success) return { ...base, passed: false, error: "/api/execute answered a body that does not parse" };
  const run = result.data;
  const report = reportOf(run.stdout);
  if (report === null) {
    const why = run.timed_out
      ? "the run timed out"
      : run.oom_killed
        ? "the run ran out of memory"
        : `exit ${run.exit_code}`;
    return {
      ...base,
      passed: false,
      duration_ms: run.duration_ms,
      error: `no report from the driver (${why}): ${(run.stderr || run.stdout).slice(-300)}`,
    };
  }
  const typecheck = report.steps.find((step) => step.name === "typecheck");
  return {
    passed: report.passed,
    tests: report.tests,
    typecheck_ok: typecheck === undefined ? null : typecheck.exit_code === 0 && !typecheck.timed_out,
    failures: report.failures.map((failure) => ({ name: failure.name, message: failure.message.slice(0, 300) })),
    error: report.skipped_reason ?? null,
    left_out,
    duration_ms: run.duration_ms,
  };
}
