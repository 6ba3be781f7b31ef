/**
 * A `sandbox.verify` job as a sandbox run and back: the program's files plus the verification
 * driver's command line in, the driver's report (or an honest account of why there is none) out.
 *
 * The driver (host-agent/sandbox/verify.py, in the image at {@link VERIFY_DRIVER}) type-checks and
 * tests the program inside the container and prints one JSON VerifyReport as the last line of its
 * stdout. Only a driver that exited 0 is believed: a test can kill the driver and write to the
 * container's stdout, but it cannot make the driver exit 0 without the driver's own report coming
 * last (the driver kills every other process of the container before it prints).
 */
import { LIMITS } from "../../../shared/src/limits.ts";
import type { ExecuteResult, ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";
import { VerifyPayload, VerifyReport, type VerifyStep } from "../../../shared/src/protocol/verification.ts";
import { SandboxError } from "./errors.ts";
import { resolveLimits, type LimitPolicy } from "./limits.ts";
import { workspaceFiles, type Program } from "./program.ts";

/** Where the image holds the verification driver. */
export const VERIFY_DRIVER = "/usr/local/lib/atomic/verify.py";

/** The driver's report stays under this many bytes of UTF-8 (and under the run's kept stdout). */
export const VERIFY_REPORT_MAX_BYTES = 48 * 1024;

const MIB = 1024 * 1024;

/**
 * Memory a verification gets when the payload names none: tsc on an express app peaks near 180 MiB
 * and node:test adds a process per test file. It equals the host's default memory out of the box,
 * so the warm pool serves verifications; a host that defaults lower gives verifications this much
 * (up to its maximum) in a cold container.
 */
export const VERIFY_MEMORY_FLOOR = 512 * MIB;

/** Parses a payload with the wire schema, throwing `invalid_request` naming the first issue. */
export function parseVerifyPayload(payload: unknown): VerifyPayload {
  const parsed = VerifyPayload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "payload"}: ${issue.message}`);
    throw new SandboxError("invalid_request", `invalid verify payload: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/**
 * The limits of a verification: what the payload names (refused above the host's maxima, as for
 * execute), else the host's defaults, with memory raised to {@link VERIFY_MEMORY_FLOOR} (capped by
 * the host's maximum) when the default is lower.
 */
export function verificationLimits(
  requested: Partial<ResourceLimits> | undefined,
  policy: LimitPolicy,
): ResourceLimits {
  const limits = resolveLimits(requested, policy);
  if (requested?.memory_bytes === undefined && limits.memory_bytes < VERIFY_MEMORY_FLOOR) {
    limits.memory_bytes = Math.min(VERIFY_MEMORY_FLOOR, policy.maxima.memory_bytes);
  }
  return limits;
}

/** The driver's settings, its only argument (see verify.py). */
export interface VerifySettings {
  language: VerifyPayload["language"];
  test_command?: string;
  timeout_seconds: number;
  output_max_chars: number;
  max_failures: number;
  failure_message_max_chars: number;
  report_max_bytes: number;
}

/**
 * The run of a verification: the payload's files in /workspace and the driver as the command.
 * `outputLimitBytes` is what the sandbox keeps of stdout: the report must fit in it whole.
 */
export function planVerification(
  payload: VerifyPayload,
  options: { timeoutSeconds: number; outputLimitBytes: number },
): Program {
  const settings: VerifySettings = {
    language: payload.language,
    ...(payload.test_command === undefined ? {} : { test_command: payload.test_command }),
    timeout_seconds: options.timeoutSeconds,
    output_max_chars: LIMITS.verifyOutputMaxChars,
    max_failures: LIMITS.verifyMaxFailures,
    failure_message_max_chars: LIMITS.verifyFailureMessageMaxChars,
    // Room for the newline before and after the report.
    report_max_bytes: Math.min(VERIFY_REPORT_MAX_BYTES, options.outputLimitBytes - 2),
  };
  return { files: workspaceFiles(payload.files), argv: ["python3", VERIFY_DRIVER, JSON.stringify(settings)] };
}

/** The end of `text`, at most `max` UTF-16 units, never starting inside a surrogate pair. */
export function textTail(text: string, max: number): string {
  if (text.length <= max) return text;
  const start = text.length - max;
  const code = text.charCodeAt(start);
  return text.slice(code >= 0xdc00 && code <= 0xdfff ? start + 1 : start);
}

/** The driver's report: the last line of a run that exited 0, if it is a VerifyReport. */
function driverReport(result: ExecuteResult): { report: VerifyReport } | { problem: string } {
  if (result.exit_code !== 0) return { problem: "" };
  const lines = result.stdout.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (last === "") return { problem: "it printed no report" };
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    return { problem: `its report is not JSON${result.truncated ? " (the output was cut)" : ""}` };
  }
  const parsed = VerifyReport.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      problem: `its report does not match VerifyReport (${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""})`,
    };
  }
  return { report: parsed.data };
}

/** Why a run gave no report, in words, from what the sandbox saw. */
function failureReason(result: ExecuteResult, limits: ResourceLimits, problem: string): string {
  if (result.timed_out) {
    return `the verification run passed its ${limits.timeout_seconds} s limit and was killed before the driver reported`;
  }
  if (result.oom_killed) {
    return `the verification run ran out of memory (${Math.round(limits.memory_bytes / MIB)} MiB) before the driver reported`;
  }
  if (result.exit_code === 125 && result.stderr.includes("could not unpack the files")) {
    return `the program's files could not be unpacked into /workspace (disk limit ${Math.round(limits.disk_bytes / MIB)} MiB)`;
  }
  if (result.exit_code === 2 && result.stderr.includes(VERIFY_DRIVER)) {
    return `the sandbox image has no verification driver at ${VERIFY_DRIVER}: rebuild it with npm run sandbox:image`;
  }
  if (result.exit_code !== 0) {
    const how = result.signal === null ? `exited with code ${result.exit_code}` : `was killed by ${result.signal}`;
    return `the verification driver ${how} before reporting (a test may have ended it)`;
  }
  return `the verification driver gave no usable report: ${problem}`;
}

/**
 * What a verification run found: the driver's report when it exited 0 and its last line is a
 * VerifyReport, else a report that does not pass and says why (time limit, memory, a driver that
 * died or printed something else), with the end of the run's stderr (and stdout) as its output.
 */
export function readVerifyReport(result: ExecuteResult, limits: ResourceLimits): VerifyReport {
  const found = driverReport(result);
  if ("report" in found) return found.report;
  const output = [result.stderr, result.stdout].filter((text) => text.trim() !== "").join("\n");
  const step: VerifyStep = {
    name: "test",
    command: `python3 ${VERIFY_DRIVER} (the verification driver)`,
    exit_code: result.timed_out ? null : result.exit_code,
    timed_out: result.timed_out,
    duration_ms: result.duration_ms,
    output: textTail(output, LIMITS.verifyOutputMaxChars),
  };
  return {
    passed: false,
    steps: [step],
    tests: null,
    failures: [],
    report: null,
    duration_ms: result.duration_ms,
    cpu_ms: null,
    peak_memory_bytes: result.oom_killed ? limits.memory_bytes : null,
    skipped_reason: failureReason(result, limits, found.problem).slice(0, 1024),
  };
}
