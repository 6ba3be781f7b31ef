import { describe, expect, it } from "vitest";
import type { HiddenOutcome } from "./hidden.ts";
import {
  hiddenCell,
  markdownReport,
  summarize,
  summaryTable,
  taskTable,
  type EvalReport,
  type TaskResult,
} from "./report.ts";

const hidden = (passed: boolean, failed = passed ? 0 : 1): HiddenOutcome => ({
  passed,
  tests: { passed: 3 - failed, failed, skipped: 0 },
  typecheck_ok: true,
  failures: failed > 0 ? [{ name: "test_x", message: "boom" }] : [],
  error: null,
  left_out: [],
  duration_ms: 900,
});

function task(overrides: Partial<TaskResult>): TaskResult {
  return {
    id: "t",
    language: "python",
    offline: false,
    pipeline_id: "p",
    state: "COMPLETED",
    error: null,
    wall_ms: 1000,
    verified: true,
    verification_status: "passed",
    repairs: 0,
    self_tests: { passed: 2, failed: 0, skipped: 0 },
    first: hidden(true),
    final: hidden(true),
    final_same_as_first: true,
    files_first: ["main.py"],
    files_final: ["main.py"],
    ...overrides,
  };
}

const RESULTS: TaskResult[] = [
  // passes first time, verified
  task({ id: "a", wall_ms: 1000, offline: true }),
  // fails first, repaired twice, passes: fixed by repair
  task({
    id: "b",
    language: "javascript",
    wall_ms: 4000,
    repairs: 2,
    first: hidden(false),
    final: hidden(true),
    final_same_as_first: false,
  }),
  // verified, yet the hidden tests fail: the model's tests were too weak
  task({ id: "c", language: "typescript", wall_ms: 2000, first: hidden(false), final: hidden(false) }),
  // never verified (repairs ran out), hidden tests fail
  task({
    id: "d",
    language: "typescript",
    wall_ms: 9000,
    verified: false,
    verification_status: "failed",
    repairs: 1,
    first: hidden(false),
    final: hidden(false),
    final_same_as_first: false,
  }),
  // the pipeline failed: no files at all
  task({
    id: "e",
    wall_ms: 3000,
    state: "FAILED",
    error: "timeout: GENERATING did not finish in time",
    verified: false,
    verification_status: null,
    repairs: null,
    self_tests: null,
    first: null,
    final: null,
    final_same_as_first: false,
    offline: true,
  }),
];

describe("summarize", () => {
  const summary = summarize(RESULTS);

  it("counts pass@first and pass@final over every task", () => {
    expect(summary.tasks).toBe(5);
    expect(summary.completed).toBe(4);
    expect(summary.pass_at_first).toEqual({ passed: 1, of: 5, rate: 0.2 });
    expect(summary.pass_at_final).toEqual({ passed: 2, of: 5, rate: 0.4 });
    expect(summary.verified).toEqual({ passed: 3, of: 5, rate: 0.6 });
    expect(summary.fixed_by_repair).toBe(1);
    expect(summary.broken_by_repair).toBe(0);
  });

  it("compares the verdict with the hidden tests over the tasks with final files", () => {
    expect(summary.agreement).toEqual({
      agree: 3,
      of: 4,
      rate: 0.75,
      verified_and_passed: 2,
      verified_but_failed: 1,
      unverified_but_passed: 0,
      unverified_and_failed: 1,
    });
  });

  it("summarizes repairs over the verified pipelines and wall times by nearest rank", () => {
    expect(summary.repairs).toEqual({ mean: 0.75, median: 0, max: 2, repaired_tasks: 2, of: 4 });
    expect(summary.wall_ms).toEqual({ p50: 3000, p90: 9000, mean: 3800, max: 9000 });
  });

  it("splits by language and checks the offline tasks", () => {
    expect(summary.by_language.typescript).toEqual({
      tasks: 2,
      pass_at_first: { passed: 0, of: 2, rate: 0 },
      pass_at_final: { passed: 0, of: 2, rate: 0 },
      verified: { passed: 1, of: 2, rate: 0.5 },
    });
    expect(summary.by_language.javascript.pass_at_final.rate).toBe(1);
    expect(summary.offline_tasks).toEqual({ passed: 1, of: 2, rate: 0.5 });
  });

  it("has no figures rather than NaN when there is nothing", () => {
    const empty = summarize([]);
    expect(empty.pass_at_first.rate).toBeNull();
    expect(empty.agreement.rate).toBeNull();
    expect(empty.repairs.mean).toBeNull();
    expect(empty.wall_ms.p50).toBeNull();
  });
});

describe("tables", () => {
  it("shows each task's verdicts and the totals", () => {
    const table = taskTable(RESULTS);
    expect(table).toMatch(/^task\s+lang/);
    expect(table).toMatch(/b\s+javascript\s+verified 2\/2\s+2\s+FAIL 2\/3\s+PASS 3\/3\s+4\.0 s/);
    expect(table).toMatch(/e\s+python\s+yes\s+FAILED\s+-\s+-\s+-/);
    const totals = summaryTable(summarize(RESULTS));
    expect(totals).toContain("1/5 (20%)");
    expect(totals).toContain("verified+FAIL 1");
  });

  it("says why a hidden run gave no verdict", () => {
    expect(hiddenCell(null)).toBe("-");
    expect(hiddenCell({ ...hidden(false), tests: null, error: "no tests found" })).toBe("FAIL (no tests found)");
    expect(hiddenCell({ ...hidden(false, 0), typecheck_ok: false })).toBe("FAIL typecheck 3/3");
  });

  it("writes the Markdown report with what failed", () => {
    const report: EvalReport = {
      schema: "atomic-eval/1",
      date: "2026-12-01T00:00:00.000Z",
      git_commit: "0123456789abcdef",
      git_dirty: false,
      provider: { kind: "offline", model: null, base_url: null, health: "offline" },
      settings: { max_repairs: 2, concurrency: 2, hidden_timeout_s: 90, task_timeout_s: 900, filter: null },
      machine: { cpus: 2, memory_mb: 1024, node: "v24", python: "3.11", docker: "20" },
      duration_s: 12,
      summary: summarize(RESULTS),
      tasks: RESULTS,
    };
    const markdown = markdownReport(report);
    expect(markdown).toContain("commit `0123456`");
    expect(markdown).toContain("| task | lang |");
    expect(markdown).toContain("- **e**: timeout: GENERATING did not finish in time");
    expect(markdown).toContain("- **c** (first): failed: test_x");
  });
});
