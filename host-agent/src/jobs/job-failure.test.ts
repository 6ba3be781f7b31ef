import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JobError } from "../../../shared/src/index.ts";
import { IpcError } from "../ipc/index.ts";
import { SandboxError, SandboxLimitError } from "../sandbox/errors.ts";
import { JobFailure, toJobError } from "./job-failure.ts";

describe("toJobError: what the edge is told of a failed job", () => {
  it("keeps a JobFailure's code, message and retryable flag", () => {
    expect(toJobError(new JobFailure("export_error", "downloading main.py answered 503", true))).toEqual({
      code: "export_error",
      message: "downloading main.py answered 503",
      retryable: true,
    });
    expect(toJobError(new JobFailure("invalid_request", "llm.parse payload: prompt: expected string", false))).toEqual({
      code: "invalid_request",
      message: "llm.parse payload: prompt: expected string",
      retryable: false,
    });
  });

  it("keeps the code and retryable flag of the IPC layer's errors", () => {
    expect(toJobError(new IpcError("llm_unavailable", "the connection to the LLM agent was lost"))).toEqual({
      code: "llm_unavailable",
      message: "the connection to the LLM agent was lost",
      retryable: true,
    });
    expect(
      toJobError(IpcError.fromBody({ code: "llm_error", message: "the model refused", retryable: false })),
    ).toEqual({ code: "llm_error", message: "the model refused", retryable: false });
  });

  it("keeps the code and retryable flag of the sandbox's errors", () => {
    expect(toJobError(new SandboxLimitError("memory_bytes", 2048, 1024))).toEqual({
      code: "invalid_request",
      message: "limits.memory_bytes = 2048 is above this host's maximum of 1024",
      retryable: false,
    });
    expect(
      toJobError(new SandboxError("sandbox_unavailable", "the Docker engine is not answering", { retryable: true })),
    ).toEqual({ code: "sandbox_unavailable", message: "the Docker engine is not answering", retryable: true });
  });

  it("reports an error whose code is not one of the product's as internal and not retryable", async () => {
    const missing = await readFile(join(tmpdir(), `atomic-missing-${randomUUID()}.txt`)).then(
      () => {
        throw new Error("expected the read to fail");
      },
      (error: unknown) => error,
    );
    const error = toJobError(missing);
    expect(error.code).toBe("internal");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^host-agent error: ENOENT: no such file or directory/);
  });

  it("does not guess retryable for an error with one of our codes but no flag", () => {
    const bare = Object.assign(new Error("took too long"), { code: "timeout" });
    expect(toJobError(bare)).toEqual({
      code: "internal",
      message: "host-agent error: took too long",
      retryable: false,
    });
  });

  it("cuts a message to the length the edge takes, so the result is not refused", () => {
    const long = "engine said: " + "x".repeat(10_000);
    for (const thrown of [
      new JobFailure("sandbox_error", long, true),
      new SandboxError("sandbox_error", long, { retryable: true }),
      new Error(long),
    ]) {
      const error = toJobError(thrown);
      expect(JobError.safeParse(error).success).toBe(true);
      expect(error.message).toHaveLength(4096);
      expect(error.message.endsWith("x…")).toBe(true);
    }
  });

  it("reports something thrown that is not an Error by its text", () => {
    expect(toJobError("socket hang up")).toEqual({
      code: "internal",
      message: "host-agent error: socket hang up",
      retryable: false,
    });
    expect(toJobError(undefined)).toEqual({
      code: "internal",
      message: "host-agent error: undefined",
      retryable: false,
    });
  });
});
