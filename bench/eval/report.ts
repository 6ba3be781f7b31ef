/** The figures of `npm run eval`: per task, in total and per language, as JSON, a table and Markdown. */
import type { TestCounts } from "../../shared/src/index.ts";
import { percentile } from "../stats.ts";
import { renderTable } from "../table.ts";
import type { HiddenOutcome } from "./hidden.ts";
import { EVAL_LANGUAGES, type EvalLanguage } from "./task.ts";

export interface TaskResult {
  id: string;
  language: EvalLanguage;
  /** The task is meant to be answered by the offline provider's templates. */
  offline: boolean;
  pipeline_id: string | null;
  /** The pipeline's end: COMPLETED, FAILED, CANCELLED, or null when it was never followed to an end. */
  state: string | null;
  /** Why the pipeline failed, or could not be followed. */
  error: string | null;
  /** From the request to the result event, on the client's clock. */
  wall_ms: number;
  /** The pipeline's own verdict. */
  verified: boolean;
  verification_status: "passed" | "failed" | "skipped" | null;
  repairs: number | null;
  /** The counts of the pipeline's last verification round (the model's own tests). */
  self_tests: TestCounts | null;
  /** Hidden tests against the model's first answer; null when there was no first answer. */
  first: HiddenOutcome | null;
  /** Hidden tests against the packaged files; null when nothing was packaged. */
  final: HiddenOutcome | null;
  /** The final files are the first answer's (no repair changed anything): one hidden run served both. */
  final_same_as_first: boolean;
  files_first: string[];
  files_final: string[];
}

export interface Rate {
  passed: number;
  of: number;
  /** passed / of, 0..1; null when `of` is 0. */
  rate: number | null;
}

export interface EvalSummary {
  tasks: number;
  completed: number;
  pass_at_first: Rate;
  pass_at_final: Rate;
  /** Pipelines that said verified. */
  verified: Rate;
  /**
   * The pipeline's verdict against the hidden tests on the final files, over the tasks with
   * final files: `agree` when verified and passed, or not verified and failed.
   */
  agreement: {
    agree: number;
    of: number;
    rate: number | null;
    verified_and_passed: number;
    /** Verified, yet the hidden tests fail: the model's own tests missed something. */
    verified_but_failed: number;
    /** Not verified, yet the hidden tests pass: the model's own tests (or its type check) were wrong. */
    unverified_but_passed: number;
    unverified_and_failed: number;
  };
  /** Repairs used, over the pipelines with a verification. */
  repairs: { mean: number | null; median: number | null; max: number | null; repaired_tasks: number; of: number };
  /** Tasks whose hidden tests failed on the first answer and passed on the final files. */
  fixed_by_repair: number;
  /** Tasks whose hidden tests passed on the first answer and failed on the final files. */
  broken_by_repair: number;
  /** Pipeline wall time, ms (nearest-rank percentiles). */
  wall_ms: { p50: number | null; p90: number | null; mean: number | null; max: number | null };
  by_language: Record<EvalLanguage, { tasks: number; pass_at_first: Rate; pass_at_final: Rate; verified: Rate }>;
  /** The tasks meant for the offline templates: how many passed on their final files. */
  offline_tasks: Rate;
}

function rate(passed: number, of: number): Rate {
  return { passed, of, rate: of === 0 ? null : passed / of };
}

function stat(values: readonly number[], f: (sorted: number[]) => number): number | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return finite.length === 0 ? null : f(finite);
}

const mean = (sorted: number[]) => sorted.reduce((sum, v) => sum + v, 0) / sorted.length;

function passedHidden(outcome: HiddenOutcome | null): boolean {
  return outcome?.passed === true;
}

export function summarize(results: readonly TaskResult[]): EvalSummary {
  const withFinal = results.filter((r) => r.final !== null);
  const agree = withFinal.filter((r) => r.verified === passedHidden(r.final)).length;
  const count = (pick: (r: TaskResult) => boolean) => withFinal.filter(pick).length;
  const verifiedRuns = results.filter((r) => r.repairs !== null);
  const repairs = verifiedRuns.map((r) => r.repairs ?? 0);
  const walls = results.map((r) => r.wall_ms);
  const byLanguage = Object.fromEntries(
    EVAL_LANGUAGES.map((language) => {
      const of = results.filter((r) => r.language === language);
      return [
        language,
        {
          tasks: of.length,
          pass_at_first: rate(of.filter((r) => passedHidden(r.first)).length, of.length),
          pass_at_final: rate(of.filter((r) => passedHidden(r.final)).length, of.length),
          verified: rate(of.filter((r) => r.verified).length, of.length),
        },
      ];
    }),
  ) as EvalSummary["by_language"];
  const offline = results.filter((r) => r.offline);
  return {
    tasks: results.length,
    completed: results.filter((r) => r.state === "COMPLETED").length,
    pass_at_first: rate(results.filter((r) => passedHidden(r.first)).length, results.length),
    pass_at_final: rate(results.filter((r) => passedHidden(r.final)).length, results.length),
    verified: rate(results.filter((r) => r.verified).length, results.length),
    agreement: {
      agree,
      of: withFinal.length,
      rate: withFinal.length === 0 ? null : agree / withFinal.length,
      verified_and_passed: count((r) => r.verified && passedHidden(r.final)),
      verified_but_failed: count((r) => r.verified && !passedHidden(r.final)),
      unverified_but_passed: count((r) => !r.verified && passedHidden(r.final)),
      unverified_and_failed: count((r) => !r.verified && !passedHidden(r.final)),
    },
    repairs: {
      mean: stat(repairs, mean),
      median: stat(repairs, (s) => percentile(s, 0.5)),
      max: stat(repairs, (s) => s[s.length - 1] ?? Number.NaN),
      repaired_tasks: repairs.filter((n) => n > 0).length,
      of: verifiedRuns.length,
    },
    fixed_by_repair: results.filter((r) => !passedHidden(r.first) && passedHidden(r.final)).length,
    broken_by_repair: results.filter((r) => passedHidden(r.first) && !passedHidden(r.final)).length,
    wall_ms: {
      p50: stat(walls, (s) => percentile(s, 0.5)),
      p90: stat(walls, (s) => percentile(s, 0.9)),
      mean: stat(walls, mean),
      max: stat(walls, (s) => s[s.length - 1] ?? Number.NaN),
    },
    by_language: byLanguage,
    offline_tasks: rate(offline.filter((r) => passedHidden(r.final)).length, offline.length),
  };
}

// ---------------------------------------------------------------- text

function pct(r: Rate): string {
  return r.rate === null ? "n/a" : `${r.passed}/${r.of} (${Math.round(r.rate * 100)}%)`;
}

function num(value: number | null, digits = 1): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  return value.toFixed(digits);
}

function seconds(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) ? "n/a" : `${(ms / 1000).toFixed(1)} s`;
}

/** `PASS 5/5`, `FAIL 3/5`, `FAIL typecheck 5/5`, `ERROR: why`, or `-` when there was nothing to run. */
export function hiddenCell(outcome: HiddenOutcome | null): string {
  if (outcome === null) return "-";
  const tests = outcome.tests;
  const counts = tests === null ? "" : ` ${tests.passed}/${tests.passed + tests.failed}`;
  if (outcome.passed) return `PASS${counts}`;
  if (tests === null) return `FAIL (${(outcome.error ?? "no tests ran").slice(0, 40)})`;
  return `FAIL${outcome.typecheck_ok === false ? " typecheck" : ""}${counts}`;
}

function verdictCell(result: TaskResult): string {
  if (result.state !== "COMPLETED") return result.state ?? "no end";
  const self = result.self_tests;
  const counts = self === null ? "" : ` ${self.passed}/${self.passed + self.failed}`;
  return `${result.verified ? "verified" : (result.verification_status ?? "unverified")}${counts}`;
}

export const TASK_HEADERS = [
  "task",
  "lang",
  "offline",
  "pipeline verdict (own tests)",
  "repairs",
  "hidden: first",
  "hidden: final",
  "time",
];

export function taskRows(results: readonly TaskResult[]): string[][] {
  return results.map((r) => [
    r.id,
    r.language,
    r.offline ? "yes" : "",
    verdictCell(r),
    r.repairs === null ? "-" : String(r.repairs),
    hiddenCell(r.first),
    r.final_same_as_first && r.final !== null ? `${hiddenCell(r.final)} (same files)` : hiddenCell(r.final),
    seconds(r.wall_ms),
  ]);
}

export function summaryRows(summary: EvalSummary): string[][] {
  const a = summary.agreement;
  const rows = [
    ["tasks (pipelines completed)", `${summary.tasks} (${summary.completed})`],
    ["pass@first: hidden tests pass on the first answer", pct(summary.pass_at_first)],
    ["pass@final: hidden tests pass on the final files", pct(summary.pass_at_final)],
    ["verified by the pipeline", pct(summary.verified)],
    [
      "verdict agrees with the hidden tests",
      a.rate === null
        ? "n/a"
        : `${a.agree}/${a.of} (${Math.round(a.rate * 100)}%): verified+pass ${a.verified_and_passed}, ` +
          `verified+FAIL ${a.verified_but_failed}, unverified+pass ${a.unverified_but_passed}, unverified+fail ${a.unverified_and_failed}`,
    ],
    [
      "repairs per pipeline (mean / median / max)",
      `${num(summary.repairs.mean, 2)} / ${num(summary.repairs.median, 0)} / ${num(summary.repairs.max, 0)}; ` +
        `${summary.repairs.repaired_tasks} of ${summary.repairs.of} pipelines repaired`,
    ],
    ["fixed by repair / broken by repair", `${summary.fixed_by_repair} / ${summary.broken_by_repair}`],
    [
      "pipeline wall time p50 / p90 / max",
      `${seconds(summary.wall_ms.p50)} / ${seconds(summary.wall_ms.p90)} / ${seconds(summary.wall_ms.max)}`,
    ],
  ];
  for (const language of EVAL_LANGUAGES) {
    const l = summary.by_language[language];
    if (l.tasks === 0) continue;
    rows.push([
      `  ${language}: first / final / verified`,
      `${pct(l.pass_at_first)} / ${pct(l.pass_at_final)} / ${pct(l.verified)}`,
    ]);
  }
  if (summary.offline_tasks.of > 0)
    rows.push(["tasks meant for the offline templates, pass@final", pct(summary.offline_tasks)]);
  return rows;
}

export function taskTable(results: readonly TaskResult[]): string {
  return renderTable(TASK_HEADERS, taskRows(results));
}

export function summaryTable(summary: EvalSummary): string {
  return renderTable(["figure", "value"], summaryRows(summary));
}

/** The whole of eval.json. */
export interface EvalReport {
  schema: "atomic-eval/1";
  date: string;
  git_commit: string | null;
  git_dirty: boolean | null;
  /** `offline`, or the model and the server the Python agent asked. */
  provider: {
    kind: "offline" | "openai-compatible";
    model: string | null;
    base_url: string | null;
    health: string | null;
  };
  settings: {
    max_repairs: number;
    concurrency: number;
    hidden_timeout_s: number;
    task_timeout_s: number;
    filter: string[] | null;
  };
  machine: { cpus: number; memory_mb: number; node: string; python: string | null; docker: string | null };
  duration_s: number;
  summary: EvalSummary;
  tasks: TaskResult[];
}

function mdTable(headers: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, "\\|");
  return [
    `| ${headers.map(escape).join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

export function markdownReport(report: EvalReport): string {
  const provider =
    report.provider.kind === "offline"
      ? "the offline provider (built-in templates: a smoke test of the loop, not a measure of a model)"
      : `${report.provider.model ?? "?"} at ${report.provider.base_url ?? "?"}`;
  const failures = report.tasks.flatMap((task) => {
    const lines: string[] = [];
    if (task.error !== null) lines.push(`- **${task.id}**: ${task.error}`);
    for (const [which, outcome] of [
      ["first", task.first],
      ["final", task.final],
    ] as const) {
      if (outcome === null || outcome.passed) continue;
      if (which === "final" && task.final_same_as_first) continue;
      const names = outcome.failures.map((f) => f.name).slice(0, 5);
      const detail = [
        outcome.typecheck_ok === false ? "the program does not type-check" : null,
        outcome.error,
        names.length > 0 ? `failed: ${names.join("; ")}` : null,
      ].filter((part): part is string => part !== null);
      lines.push(`- **${task.id}** (${which}): ${detail.join("; ") || "failed"}`);
    }
    return lines;
  });
  return [
    "# Eval: the verify-and-repair loop against hidden tests",
    "",
    `Run of ${report.date} (${report.duration_s} s), commit \`${(report.git_commit ?? "?").slice(0, 7)}\`${report.git_dirty ? " (with uncommitted changes)" : ""}; ` +
      `model: ${provider}. max_repairs ${report.settings.max_repairs}, ${report.settings.concurrency} pipelines at once` +
      (report.settings.filter === null ? "." : `, tasks ${report.settings.filter.join(",")}.`),
    `Machine: ${report.machine.cpus} CPUs, ${report.machine.memory_mb} MB; Node ${report.machine.node}, Python ${report.machine.python ?? "?"}, Docker ${report.machine.docker ?? "?"}.`,
    "",
    "## Summary",
    "",
    mdTable(["figure", "value"], summaryRows(report.summary)),
    "",
    "## Tasks",
    "",
    mdTable(TASK_HEADERS, taskRows(report.tasks)),
    "",
    ...(failures.length > 0 ? ["## What failed", "", ...failures, ""] : []),
    "See docs/EVAL.md for what each figure means.",
    "",
  ].join("\n");
}
