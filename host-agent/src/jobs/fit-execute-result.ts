import type { ExecuteResult } from "../../../shared/src/index.ts";
import { jsonBytes, jsonPrefix } from "../link/frame-size.ts";

/**
 * Cuts a sandbox result's output so that the result takes at most `maxBytes` as JSON in UTF-8.
 *
 * Why cut rather than split: a result travels whole in one agent-link frame, which is what makes
 * its delivery exactly-once (one outbox entry, one ack), and both of its owners (`/api/execute`
 * and a pipeline's VALIDATING stage) take it as one value. The output the host keeps
 * (ATOMIC_SANDBOX_OUTPUT_LIMIT_BYTES of each stream) can take six times its size as JSON (a NUL
 * or ESC is written `\u0000`), so the frame, not the capture, sets the final bound.
 *
 * Each stream keeps its start, as the capture does. Each gets half the room; a stream that needs
 * less leaves the rest to the other. Any cut sets `truncated`.
 */
export function fitExecuteResult(result: ExecuteResult, maxBytes: number): ExecuteResult {
  if (jsonBytes(result) <= maxBytes) return result;
  const room = Math.max(0, maxBytes - jsonBytes({ ...result, stdout: "", stderr: "", truncated: true }));
  // The quotes are counted in the skeleton above.
  const stdoutBytes = jsonBytes(result.stdout) - 2;
  const stderrBytes = jsonBytes(result.stderr) - 2;
  const half = Math.floor(room / 2);
  const stdoutRoom = stdoutBytes <= half ? stdoutBytes : stderrBytes <= half ? room - stderrBytes : half;
  return {
    ...result,
    stdout: jsonPrefix(result.stdout, stdoutRoom),
    stderr: jsonPrefix(result.stderr, room - stdoutRoom),
    truncated: true,
  };
}
