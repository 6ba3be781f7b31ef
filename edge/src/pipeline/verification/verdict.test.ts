import { describe, expect, it } from "vitest";
import type { VerificationRound } from "../../../../shared/src/index.ts";
import { failureBrief } from "./failure-brief.ts";
import { repairsAllowed, skippedVerdict, verdictAfterRound, verdictLine, wantsVerification } from "./verdict.ts";

function round(n: number, over: Partial<VerificationRound> = {}): VerificationRound {
  return {
    round: n,
    passed: false,
    steps: [
      {
        name: "test",
        command: "python3 -m pytest",
        exit_code: 1,
        timed_out: false,
        duration_ms: 900,
        output: "E   assert 0 == 3",
      },
    ],
    tests: { passed: 2, failed: 1, skipped: 0 },
    failures: [{ name: "test_app.test_add", message: "assert 0 == 3" }],
    report: "junit",
    duration_ms: 1000,
    cpu_ms: 400,
    peak_memory_bytes: 30_000_000,
    ...over,
  };
}

const basis = { maxRepairs: 2, pinned: [] };

describe("the verdict", () => {
  it("asks for repairs while rounds remain, then ends failed with every round", () => {
    const first = verdictAfterRound(null, round(0), basis);
    expect(first.repair).toBe(true);
    const second = verdictAfterRound(first.verification, round(1), basis);
    expect(second.repair).toBe(true);
    const last = verdictAfterRound(second.verification, round(2), basis);
    expect(last.repair).toBe(false);
    expect(last.verification).toMatchObject({ verified: false, status: "failed", repairs: 2, max_repairs: 2 });
    expect(last.verification.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(verdictLine(last.verification)).toBe(
      "Not verified: tests failed (2 passed, 1 failed, 0 skipped) after 2 repairs.",
    );
  });

  it("is verified only by a round whose tests passed", () => {
    const passed = verdictAfterRound(
      null,
      round(1, { passed: true, tests: { passed: 3, failed: 0, skipped: 0 } }),
      basis,
    );
    expect(passed).toMatchObject({ repair: false, verification: { verified: true, status: "passed", repairs: 1 } });
    expect(verdictLine(passed.verification)).toBe(
      "Verified: tests passed in the sandbox (3 passed, 0 failed, 0 skipped), after 1 repair.",
    );
    const first = verdictAfterRound(
      null,
      round(0, { passed: true, tests: { passed: 3, failed: 0, skipped: 0 } }),
      basis,
    );
    expect(verdictLine(first.verification)).toBe(
      "Verified: tests passed in the sandbox (3 passed, 0 failed, 0 skipped).",
    );
    const none = verdictAfterRound(null, round(0), { maxRepairs: 0, pinned: [] });
    expect(verdictLine(none.verification)).toBe(
      "Not verified: tests failed (2 passed, 1 failed, 0 skipped) with no repair allowed.",
    );
  });

  it("says why when there was nothing to test, and does not repair it", () => {
    const none = verdictAfterRound(
      null,
      round(0, { tests: null, failures: [], skipped_reason: "no tests found" }),
      basis,
    );
    expect(none).toMatchObject({
      repair: false,
      verification: { verified: false, status: "skipped", skipped_reason: "no tests found" },
    });
    expect(skippedVerdict(null, "the sandbox has no test runner for go", basis)).toMatchObject({
      verified: false,
      status: "skipped",
      rounds: [],
      skipped_reason: "the sandbox has no test runner for go",
    });
  });

  it("reads the request: verify or validate, max_repairs capped by the edge", () => {
    expect(wantsVerification({ validate: true })).toBe(true);
    expect(wantsVerification({ verify: false })).toBe(false);
    expect(wantsVerification(undefined)).toBe(false);
    expect(repairsAllowed(undefined, 5)).toBe(2);
    expect(repairsAllowed({ max_repairs: 8 }, 5)).toBe(5);
    expect(repairsAllowed({ max_repairs: 0 }, 5)).toBe(0);
  });
});

describe("failureBrief", () => {
  it("names each failure and the failed steps' output, within its budget", () => {
    const brief = failureBrief(round(0), 12_000);
    expect(brief).toContain("Tests: 2 passed, 1 failed, 0 skipped.");
    expect(brief).toContain("FAILED test_app.test_add\nassert 0 == 3");
    expect(brief).toContain("$ python3 -m pytest  (test, exit status 1)\nE   assert 0 == 3");
    const long = round(0, {
      steps: [
        {
          name: "typecheck",
          command: "tsc",
          exit_code: 2,
          timed_out: false,
          duration_ms: 1,
          output: "x".repeat(50_000),
        },
      ],
    });
    const trimmed = failureBrief(long, 2_000);
    expect(trimmed.length).toBeLessThanOrEqual(2_000);
    expect(trimmed).toContain("[…trimmed]");
    expect(trimmed).toContain("FAILED test_app.test_add");
  });
});
