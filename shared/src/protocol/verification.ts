import { z } from "zod";
import { LIMITS } from "../limits.ts";
import { Requirements } from "./common.ts";
import { ResourceLimits, SandboxFile } from "./sandbox.ts";

/**
 * Verification: a pipeline tests its own code in the sandbox (VERIFYING), feeds failures back to
 * the model (REPAIRING) and reports honestly whether the result passed.
 */

/** Languages VERIFYING can check and test. */
export const VerifyLanguage = z.enum(["python", "javascript", "typescript"]);
export type VerifyLanguage = z.infer<typeof VerifyLanguage>;

/** Payload of a `sandbox.verify` job: the program's files and how to test them. */
export const VerifyPayload = z
  .object({
    language: VerifyLanguage,
    files: z.array(SandboxFile).min(1).max(LIMITS.artifactMaxFiles),
    /** Replaces the default test step (`sh -c`, in /workspace); the type check still runs first. */
    test_command: z.string().min(1).max(LIMITS.testCommandMaxChars).optional(),
    limits: ResourceLimits.partial().optional(),
  })
  .strict();
export type VerifyPayload = z.infer<typeof VerifyPayload>;

/** One command of a verification run: the type check, or the tests. */
export const VerifyStep = z.object({
  name: z.enum(["typecheck", "test"]),
  command: z.string().max(4096),
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  duration_ms: z.number().nonnegative(),
  /** The end of what the command printed (stdout and stderr interleaved), at most a few KiB. */
  output: z.string().max(LIMITS.verifyOutputMaxChars),
});
export type VerifyStep = z.infer<typeof VerifyStep>;

/** A test that failed (or errored), as the runner's report names it. */
export const TestFailure = z.object({
  name: z.string().max(256),
  message: z.string().max(LIMITS.verifyFailureMessageMaxChars),
});
export type TestFailure = z.infer<typeof TestFailure>;

const Count = z.number().int().nonnegative();

/** Test counts from the runner's machine-readable report. */
export const TestCounts = z.object({
  passed: Count,
  failed: Count,
  skipped: Count,
});
export type TestCounts = z.infer<typeof TestCounts>;

/** Result of a `sandbox.verify` job: what one verification run found. */
export const VerifyReport = z.object({
  /** The type check passed (or the language has none) and the tests ran and none failed. */
  passed: z.boolean(),
  steps: z.array(VerifyStep).max(4),
  /** Null when no report was written (no tests found, or the run died before the runner reported). */
  tests: TestCounts.nullable(),
  failures: z.array(TestFailure).max(LIMITS.verifyMaxFailures),
  /** Which report the counts come from (`junit`), or null. */
  report: z.enum(["junit"]).nullable(),
  duration_ms: z.number().nonnegative(),
  /** CPU time of the whole run, from the container's cgroup; null when the cgroup could not be read. */
  cpu_ms: z.number().nonnegative().nullable(),
  /** Peak memory of the whole run, from the container's cgroup; null when unknown. */
  peak_memory_bytes: z.number().int().nonnegative().nullable(),
  /** Why the run could not give a verdict (no tests found, no runtime), if so. */
  skipped_reason: z.string().max(1024).optional(),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

/** Payload of an `llm.repair` job: the request, the current files and what failed. */
export const RepairPayload = z.object({
  prompt: z.string(),
  language: z.string().min(1).max(64),
  files: z.array(SandboxFile).min(1).max(LIMITS.artifactMaxFiles),
  /** Paths the model must not change (the request's own tests). */
  pinned: z.array(z.string().max(256)).max(LIMITS.pinnedTestMaxFiles),
  /** The failures, already trimmed by the edge to the repair budget. */
  failures: z.string().max(LIMITS.repairFailuresMaxChars),
  /** 1 for the first repair. */
  round: z.number().int().positive(),
  /** What PARSING settled on (framework, entry file): what the first answer was written for. */
  requirements: Requirements.optional(),
  /** The request's test command, when it named one: the model should know how it is tested. */
  test_command: z.string().max(LIMITS.testCommandMaxChars).optional(),
});
export type RepairPayload = z.infer<typeof RepairPayload>;

/** One round of VERIFYING as the pipeline records it: 0 is the first answer, N after N repairs. */
export const VerificationRound = VerifyReport.extend({
  round: z.number().int().nonnegative(),
  /** Files a repair tried to change but the request pinned: their pinned text was kept. */
  rejected_changes: z.array(z.string()).optional(),
});
export type VerificationRound = z.infer<typeof VerificationRound>;

/** The verdict a verified pipeline carries in its result, manifest, bundle and export. */
export const Verification = z.object({
  /** True only when the final files' tests ran in the sandbox and passed. */
  verified: z.boolean(),
  status: z.enum(["passed", "failed", "skipped"]),
  /** Repairs used. */
  repairs: Count,
  /** Repairs allowed (the request's `max_repairs`, capped by ATOMIC_MAX_REPAIRS). */
  max_repairs: Count,
  /** The final round's counts, or null when no tests ran. */
  tests: TestCounts.nullable(),
  rounds: z.array(VerificationRound),
  /** The request's pinned test files. */
  pinned: z.array(z.string()),
  skipped_reason: z.string().optional(),
  /** Why the loop stopped before its rounds ran out (a repair that could not run), if it did. */
  note: z.string().optional(),
});
export type Verification = z.infer<typeof Verification>;
