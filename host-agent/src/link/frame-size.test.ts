import { describe, expect, it } from "vitest";
import { LIMITS, LINK_VERSION } from "../../../shared/src/index.ts";
import { jsonBytes, jsonPrefix, resultRoom } from "./frame-size.ts";

/** Bytes a string's body takes inside JSON, as JSON.stringify writes it. */
const bodyBytes = (text: string) => jsonBytes(text) - 2;

// Every kind of UTF-16 unit JSON.stringify treats differently: plain ASCII, a quote and a
// backslash, short and long control escapes, DEL, 2- and 3-byte characters, a surrogate pair, and
// lone surrogates of both halves.
const UNITS = ["a", '"', "\\", "\n", "\t", "\0", "\x1b", "\x7f", "é", "€", "\u2028", "🙂", "\ud83d", "\ude42"];

describe("jsonPrefix: the start of a text that fits a byte budget as JSON", () => {
  it("counts each kind of character as JSON.stringify writes it", () => {
    for (const unit of UNITS) {
      const text = unit.repeat(10);
      for (let budget = 0; budget <= bodyBytes(text) + 1; budget++) {
        const kept = jsonPrefix(text, budget);
        expect(bodyBytes(kept), `${JSON.stringify(unit)} in ${budget}`).toBeLessThanOrEqual(budget);
        // Kept as much as fits: one more character would not.
        if (kept.length < text.length) {
          expect(bodyBytes(text.slice(0, kept.length + unit.length)), JSON.stringify(unit)).toBeGreaterThan(budget);
        }
      }
    }
  });

  it("keeps whole characters from a mixed text, as many as fit", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let round = 0; round < 200; round++) {
      let text = "";
      for (let i = next() % 60; i > 0; i--) text += UNITS[next() % UNITS.length];
      const budget = next() % (bodyBytes(text) + 2);
      const kept = jsonPrefix(text, budget);
      expect(text.startsWith(kept)).toBe(true);
      expect(bodyBytes(kept)).toBeLessThanOrEqual(budget);
      // Never the first half of a pair that the text completes.
      const last = kept.charCodeAt(kept.length - 1);
      const after = text.charCodeAt(kept.length);
      expect(last >= 0xd800 && last <= 0xdbff && after >= 0xdc00 && after <= 0xdfff).toBe(false);
      // As many as fit: the next character (a pair counts as one) would not.
      if (kept.length < text.length) {
        const pair = after >= 0xd800 && after <= 0xdbff && (text.charCodeAt(kept.length + 1) & 0xfc00) === 0xdc00;
        expect(bodyBytes(text.slice(0, kept.length + (pair ? 2 : 1)))).toBeGreaterThan(budget);
      }
    }
  });
});

describe("resultRoom: what a successful result may take", () => {
  it("leaves exactly the room for the envelope of the job's own frame", () => {
    const job = { job_id: `execute/${"é".repeat(60)}`, attempt: 3 };
    const room = resultRoom(job);
    const frame = (result: unknown, events: number) => ({
      v: LINK_VERSION,
      type: "job.result",
      job_id: job.job_id,
      attempt: job.attempt,
      events,
      outcome: { ok: true, result },
    });
    const fill = (bytes: number) => "x".repeat(bytes - 2);
    expect(jsonBytes(frame(fill(room), Number.MAX_SAFE_INTEGER))).toBe(LIMITS.agentFrameMaxBytes);
    expect(jsonBytes(frame(fill(room), 0))).toBeLessThan(LIMITS.agentFrameMaxBytes);
    expect(jsonBytes(frame(fill(room + 1), Number.MAX_SAFE_INTEGER))).toBeGreaterThan(LIMITS.agentFrameMaxBytes);
  });
});
