// The `sandbox.verify` handler on a real job runner, with a stand-in sandbox: what reaches the edge.
import { describe, expect, it } from "vitest";
import type { VerifyPayload, VerifyReport } from "../../../shared/src/index.ts";
import { jsonBytes, resultRoom } from "../link/frame-size.ts";
import { createLogger } from "../log.ts";
import { SandboxError } from "../sandbox/errors.ts";
import { createHandlers, type SandboxRunner } from "./handlers.ts";
import { JobRunner } from "./job-runner.ts";
import { assignment, RecordingReporter } from "./test-support.ts";

const REPORT: VerifyReport = {
  passed: false,
  steps: [{ name: "test", command: "node --test", exit_code: 1, timed_out: false, duration_ms: 9, output: "✖ fails" }],
  tests: { passed: 0, failed: 1, skipped: 0 },
  failures: [{ name: "a.test.js > fails", message: "1 !== 2" }],
  report: "junit",
  duration_ms: 10,
  cpu_ms: 8,
  peak_memory_bytes: 1_000_000,
};

const PAYLOAD: VerifyPayload = {
  language: "javascript",
  files: [{ path: "a.test.js", content: "require('node:test')('fails', () => {});" }],
};

function jobSide(verify: SandboxRunner["verify"]): { runner: JobRunner; reporter: RecordingReporter } {
  const refuse = () => Promise.reject(new Error("no LLM in this test"));
  const runner = new JobRunner({
    capacity: 2,
    logger: createLogger("silent"),
    tokenFlushMs: 0,
    handlers: createHandlers({
      llm: { refreshHealth: refuse, parse: refuse, generate: refuse, repair: refuse },
      sandbox: { execute: refuse, verify },
      exportDir: "/nonexistent/exports",
      edgeUrl: "http://127.0.0.1:9",
      token: "agent-token",
    }),
  });
  const reporter = new RecordingReporter();
  runner.attach(reporter);
  return { runner, reporter };
}

describe("sandbox.verify jobs", () => {
  it("answer the sandbox's report, passing the payload and the job's signal on", async () => {
    const calls: Array<{ payload: VerifyPayload; signal: AbortSignal | undefined }> = [];
    const { runner, reporter } = jobSide((payload, options) => {
      calls.push({ payload, signal: options.signal });
      return Promise.resolve(REPORT);
    });
    runner.assign(assignment("verify-1", { kind: "sandbox.verify", payload: PAYLOAD }));
    const result = await reporter.result("verify-1");
    expect(result.outcome).toEqual({ ok: true, result: REPORT });
    expect(calls).toEqual([{ payload: PAYLOAD, signal: expect.any(AbortSignal) }]);
  });

  it("refuse a payload the contract refuses as invalid_request, without running anything", async () => {
    let ran = false;
    const { runner, reporter } = jobSide(() => {
      ran = true;
      return Promise.resolve(REPORT);
    });
    runner.assign(
      assignment("bad", { kind: "sandbox.verify", payload: { ...PAYLOAD, test_command: "x".repeat(2000) } }),
    );
    const result = await reporter.result("bad");
    expect(result.outcome).toEqual({
      ok: false,
      error: {
        code: "invalid_request",
        message: expect.stringMatching(/^sandbox\.verify payload: test_command: /),
        retryable: false,
      },
    });
    expect(ran).toBe(false);
  });

  it("pass the sandbox's errors on with their code", async () => {
    const { runner, reporter } = jobSide(() =>
      Promise.reject(new SandboxError("sandbox_unavailable", "Docker engine not reachable", { retryable: true })),
    );
    runner.assign(assignment("down", { kind: "sandbox.verify", payload: PAYLOAD }));
    const result = await reporter.result("down");
    expect(result.outcome).toEqual({
      ok: false,
      error: { code: "sandbox_unavailable", message: "Docker engine not reachable", retryable: true },
    });
  });

  it("fit the report into the job's result frame", async () => {
    const huge: VerifyReport = {
      ...REPORT,
      failures: Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, message: "\u0000".repeat(1000) })),
      steps: [{ ...REPORT.steps[0]!, output: "\u001b".repeat(4096) }],
    };
    const job = assignment("huge", { kind: "sandbox.verify", payload: PAYLOAD });
    expect(jsonBytes(huge)).toBeLessThan(resultRoom(job));
    const { runner, reporter } = jobSide(() => Promise.resolve(huge));
    runner.assign(job);
    const result = await reporter.result("huge");
    expect(result.outcome).toEqual({ ok: true, result: huge });
  });
});
