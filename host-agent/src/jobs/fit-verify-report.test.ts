import { describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../shared/src/index.ts";
import { jsonBytes } from "../link/frame-size.ts";
import { fitVerifyReport } from "./fit-verify-report.ts";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const report = (failures: number, message: string, output: string): VerifyReport => ({
  passed: false,
  steps: [
    { name: "typecheck", command: "tsc", exit_code: 0, timed_out: false, duration_ms: 1, output },
    { name: "test", command: "node --test", exit_code: 1, timed_out: false, duration_ms: 2, output },
  ],
  tests: { passed: 1, failed: failures, skipped: 0 },
  failures: Array.from({ length: failures }, (_, i) => ({ name: `test ${i}`, message })),
  report: "junit",
  duration_ms: 3,
  cpu_ms: 4,
  peak_memory_bytes: 5,
});

describe("fitVerifyReport: a verification report that fits one frame", () => {
  it("leaves a report that fits as it is", () => {
    const small = report(2, "é".repeat(100), "\0".repeat(100));
    expect(fitVerifyReport(small, jsonBytes(small))).toBe(small);
  });

  it("shortens the failures' messages first, each to an equal share, and keeps everything else", () => {
    const big = report(4, "\0".repeat(1000), "ok\n");
    const fitted = fitVerifyReport(big, jsonBytes(big) - 8000);
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(jsonBytes(big) - 8000);
    expect(fitted.failures.map((failure) => failure.name)).toEqual(["test 0", "test 1", "test 2", "test 3"]);
    const lengths = fitted.failures.map((failure) => failure.message.length);
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0]).toBeGreaterThan(0);
    expect(fitted.steps).toEqual(big.steps);
    expect(fitted.tests).toEqual(big.tests);
  });

  it("then keeps one failure and the end of each step's output, whole characters only", () => {
    const big = report(20, "m".repeat(1000), `${"😀".repeat(4000)}the end`);
    const fitted = fitVerifyReport(big, 2000);
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(2000);
    expect(fitted.failures).toEqual([{ name: "test 0", message: "" }]);
    expect(fitted.tests).toEqual({ passed: 1, failed: 20, skipped: 0 });
    for (const step of fitted.steps) {
      expect(step.output.endsWith("the end")).toBe(true);
      expect(step.output.length).toBeGreaterThan(100);
      expect(step.output).not.toMatch(LONE_SURROGATE);
    }
  });
});
