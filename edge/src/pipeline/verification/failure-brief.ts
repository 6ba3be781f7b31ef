import type { VerifyReport } from "../../../../shared/src/index.ts";

const ELLIPSIS = "\n[…trimmed]\n";

/** At most `max` characters of `text`: its start and its end, where errors usually are. */
function trim(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor((max - ELLIPSIS.length) / 3);
  const tail = max - ELLIPSIS.length - head;
  return `${text.slice(0, head)}${ELLIPSIS}${text.slice(text.length - tail)}`;
}

/**
 * What a repair is told about a failed verification, in at most `budget` characters: the test
 * counts, each failed test with its message, then the output of each step that failed. Failures
 * come first, since they say most in the least room; output fills what is left.
 */
export function failureBrief(report: VerifyReport, budget: number): string {
  const parts: string[] = [];
  if (report.skipped_reason !== undefined) parts.push(`Not verified: ${report.skipped_reason}`);
  if (report.tests !== null) {
    const { passed, failed, skipped } = report.tests;
    parts.push(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped.`);
  }
  for (const failure of report.failures) parts.push(`FAILED ${failure.name}\n${failure.message}`);
  let text = parts.join("\n\n");
  const failedSteps = report.steps.filter((step) => step.exit_code !== 0 || step.timed_out);
  for (const step of failedSteps) {
    const status = step.timed_out ? "timed out" : `exit status ${step.exit_code ?? "none"}`;
    const header = `\n\n$ ${step.command}  (${step.name}, ${status})\n`;
    const room = budget - text.length - header.length;
    if (room < 200) break;
    text += header + trim(step.output, room);
  }
  return trim(text, budget);
}
