import { LIMITS, LINK_VERSION, type JobResult } from "../../../shared/src/index.ts";

/**
 * Sizes as the agent link counts them: UTF-8 bytes of JSON text. The edge refuses a frame over
 * `LIMITS.agentFrameMaxBytes` counted that way, and characters are a poor guide to it: JSON
 * writes a NUL or an ANSI escape (ESC) as `\u0000`, six bytes, and "é" takes two.
 */

/** UTF-8 bytes of `value` written as JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

// Control characters JSON.stringify writes as a two-byte escape (\b \t \n \f \r); the others take six.
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * The longest start of `text` that takes at most `maxBytes` inside a JSON string (its quotes not
 * counted). Never ends inside a surrogate pair, so what is kept is whole characters.
 */
export function jsonPrefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    let cost: number;
    let units = 1;
    if (code === 0x22 || code === 0x5c)
      cost = 2; // \" and \\
    else if (code < 0x20) cost = SHORT_ESCAPES.has(code) ? 2 : 6;
    else if (code < 0x80) cost = 1;
    else if (code < 0x800) cost = 2;
    else if (code < 0xd800 || code > 0xdfff) cost = 3;
    else {
      const next = text.charCodeAt(i + 1);
      // A pair is one 4-byte character; a lone surrogate is written as a `\udXXX` escape.
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cost = 4;
        units = 2;
      } else cost = 6;
    }
    if (bytes + cost > maxBytes) break;
    bytes += cost;
    i += units;
  }
  return text.slice(0, i);
}

/**
 * Bytes the `result` of a successful `job.result` of `job` may take as JSON for its frame to fit
 * the limit. The envelope is measured with the job's own id and room for any event count.
 */
export function resultRoom(job: { job_id: string; attempt: number }): number {
  const envelope: JobResult = {
    v: LINK_VERSION,
    type: "job.result",
    job_id: job.job_id,
    attempt: job.attempt,
    events: Number.MAX_SAFE_INTEGER,
    outcome: { ok: true, result: null },
  };
  return LIMITS.agentFrameMaxBytes - (jsonBytes(envelope) - jsonBytes(null));
}
