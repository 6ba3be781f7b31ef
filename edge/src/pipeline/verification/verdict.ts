import type { GenerateMetadata, Verification, VerificationRound } from "../../../../shared/src/index.ts";

/** Repairs a pipeline may use: its request's `max_repairs` (default 2), never more than the edge's cap. */
export function repairsAllowed(metadata: GenerateMetadata | undefined, cap: number): number {
  return Math.min(metadata?.max_repairs ?? 2, cap);
}

/** Whether a request asks for verification (`verify`, or the older `validate`). */
export function wantsVerification(metadata: GenerateMetadata | undefined): boolean {
  return metadata?.verify === true || metadata?.validate === true;
}

interface VerdictBasis {
  maxRepairs: number;
  pinned: string[];
}

/** A verdict reached without a test run of this round: nothing could be verified, and why. */
export function skippedVerdict(previous: Verification | null, reason: string, basis: VerdictBasis): Verification {
  return {
    verified: false,
    status: "skipped",
    repairs: previous?.repairs ?? 0,
    max_repairs: basis.maxRepairs,
    tests: previous?.tests ?? null,
    rounds: previous?.rounds ?? [],
    pinned: basis.pinned,
    skipped_reason: reason,
  };
}

/**
 * The verdict after a verification round, and whether a repair comes next: a pass ends it
 * verified; a run that found nothing to test ends it skipped; a failure asks for a repair while
 * rounds remain and ends it failed when none do.
 */
export function verdictAfterRound(
  previous: Verification | null,
  round: VerificationRound,
  basis: VerdictBasis,
): { verification: Verification; repair: boolean } {
  const rounds = [...(previous?.rounds ?? []), round];
  const common = {
    repairs: round.round,
    max_repairs: basis.maxRepairs,
    tests: round.tests,
    rounds,
    pinned: basis.pinned,
  };
  if (round.passed) return { verification: { verified: true, status: "passed", ...common }, repair: false };
  if (round.skipped_reason !== undefined && round.tests === null) {
    return {
      verification: { verified: false, status: "skipped", ...common, skipped_reason: round.skipped_reason },
      repair: false,
    };
  }
  return { verification: { verified: false, status: "failed", ...common }, repair: round.round < basis.maxRepairs };
}

/** One line for a commit message or a log: the verdict in words. */
export function verdictLine(verification: Verification): string {
  const tests = verification.tests;
  const counts = tests === null ? "" : ` (${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped)`;
  const repairs = verification.repairs === 1 ? "1 repair" : `${verification.repairs} repairs`;
  if (verification.status === "passed") {
    return `Verified: tests passed in the sandbox${counts}${verification.repairs === 0 ? "" : `, after ${repairs}`}.`;
  }
  if (verification.status === "failed") {
    const after = verification.max_repairs === 0 ? "with no repair allowed" : `after ${repairs}`;
    return `Not verified: tests failed${counts} ${after}.`;
  }
  return `Not verified: ${verification.skipped_reason ?? "verification was skipped"}.`;
}
