import { describe, expect, it } from "vitest";
import type { ExecuteResult } from "../../../shared/src/index.ts";
import { jsonBytes } from "../link/frame-size.ts";
import { fitExecuteResult } from "./fit-execute-result.ts";

const result = (stdout: string, stderr: string): ExecuteResult => ({
  exit_code: 0,
  signal: null,
  stdout,
  stderr,
  truncated: false,
  timed_out: false,
  oom_killed: false,
  duration_ms: 12,
});

describe("fitExecuteResult: a sandbox result that fits one frame", () => {
  it("leaves a result that fits as it is", () => {
    const small = result("é".repeat(1000), "\0".repeat(1000));
    expect(fitExecuteResult(small, jsonBytes(small))).toBe(small);
  });

  it("cuts NUL output, six bytes each as JSON, to the budget, half for each stream, and flags it", () => {
    const flood = result("\0".repeat(65_536), "\0".repeat(65_536));
    expect(jsonBytes(flood)).toBeGreaterThan(786_000);
    const fitted = fitExecuteResult(flood, 524_000);
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(524_000);
    expect(jsonBytes(fitted)).toBeGreaterThan(524_000 - 12);
    expect(fitted.truncated).toBe(true);
    expect(fitted.stdout).toBe("\0".repeat(fitted.stdout.length));
    expect(Math.abs(fitted.stdout.length - fitted.stderr.length)).toBeLessThanOrEqual(1);
    expect({ ...fitted, stdout: "", stderr: "" }).toEqual({ ...flood, stdout: "", stderr: "", truncated: true });
  });

  it("gives a stream the room the other does not need", () => {
    const lopsided = result("ok\n", "\x1b".repeat(200_000));
    const fitted = fitExecuteResult(lopsided, 100_000);
    expect(fitted.stdout).toBe("ok\n");
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(100_000);
    expect(jsonBytes(fitted)).toBeGreaterThan(100_000 - 6);
    const other = fitExecuteResult(result("🙂".repeat(100_000), "Traceback"), 100_000);
    expect(other.stderr).toBe("Traceback");
    expect(jsonBytes(other)).toBeGreaterThan(100_000 - 4);
    expect(other.stdout).toBe("🙂".repeat(other.stdout.length / 2));
  });
});
