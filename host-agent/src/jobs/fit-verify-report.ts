import type { VerifyReport } from "../../../shared/src/index.ts";
import { jsonBytes, jsonPrefix } from "../link/frame-size.ts";

/** The longest end of `text` that takes at most `maxBytes` inside a JSON string. */
function jsonSuffix(text: string, maxBytes: number): string {
  // Reversed by code points, so that surrogate pairs stay whole; jsonPrefix then keeps whole characters.
  const reversed = [...text].reverse().join("");
  return [...jsonPrefix(reversed, maxBytes)].reverse().join("");
}

/**
 * Cuts a verification report so that it takes at most `maxBytes` as JSON in UTF-8, for the same
 * reason as {@link fitExecuteResult}: a result travels whole in one agent-link frame.
 *
 * The driver keeps its report under 48 KiB, so this only bites with a very small frame. What goes
 * first is what a repair needs least: the failures' messages are shortened (each to an equal
 * share of the room), then the failures beyond the first are dropped (the counts stay), then the
 * steps' output is cut, keeping its end.
 */
export function fitVerifyReport(report: VerifyReport, maxBytes: number): VerifyReport {
  if (jsonBytes(report) <= maxBytes) return report;
  const withoutMessages = { ...report, failures: report.failures.map((failure) => ({ ...failure, message: "" })) };
  const messageRoom = maxBytes - jsonBytes(withoutMessages);
  if (messageRoom >= 0 && report.failures.length > 0) {
    const share = Math.floor(messageRoom / report.failures.length);
    return {
      ...report,
      failures: report.failures.map((failure) => ({ ...failure, message: jsonPrefix(failure.message, share) })),
    };
  }
  const fewer = { ...withoutMessages, failures: withoutMessages.failures.slice(0, 1) };
  const withoutOutput = { ...fewer, steps: report.steps.map((step) => ({ ...step, output: "" })) };
  const outputRoom = Math.max(0, maxBytes - jsonBytes(withoutOutput));
  const share = report.steps.length > 0 ? Math.floor(outputRoom / report.steps.length) : 0;
  return { ...fewer, steps: report.steps.map((step) => ({ ...step, output: jsonSuffix(step.output, share) })) };
}
