import type { Verification } from "../../../shared/src/protocol/verification.ts";

/** 850ms, 4.2s, 3m07s, 2h05m. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How long ago `iso` was: 12s ago, 5m03s ago. */
export function ago(iso: string, now = Date.now()): string {
  return `${duration(Math.max(0, now - Date.parse(iso)))} ago`;
}

/** `text` cut to `width` characters, with … when cut. */
export function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** Rows as columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length)))
      .join("  ")
      .trimEnd(),
  );
}

/** "1 repair", "2 repairs". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The verdict of a verification in one line (`verified` decides the wording, never a guess). */
export function verdict(verification: Verification | null): { verified: boolean; text: string } {
  if (verification === null) return { verified: false, text: "verification not requested (--verify asks for it)" };
  const tests = verification.tests;
  const counts =
    tests === null ? "no tests ran" : `${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`;
  const repairs =
    verification.repairs === 0
      ? "no repairs"
      : `after ${plural(verification.repairs, "repair")} of ${verification.max_repairs}`;
  if (verification.verified)
    return { verified: true, text: `verified: tests passed in the sandbox (${counts}), ${repairs}` };
  if (verification.status === "skipped") {
    return { verified: false, text: `NOT verified: skipped (${verification.skipped_reason ?? "no reason given"})` };
  }
  const note = verification.note === undefined ? "" : `; ${verification.note}`;
  return { verified: false, text: `NOT verified: tests failed (${counts}), ${repairs}${note}` };
}
