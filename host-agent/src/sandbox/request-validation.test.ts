// What a bad request gets from DockerSandbox.execute(), and what availability() says about a
// missing engine. None of this reaches a container, so it runs without Docker.
import Docker from "dockerode";
import { describe, expect, it } from "vitest";
import type { ExecuteRequest } from "../../../shared/src/protocol/sandbox.ts";
import { DockerSandbox } from "./docker-sandbox.ts";
import { SandboxError, SandboxLimitError } from "./errors.ts";

const MIB = 1024 * 1024;
// An engine address where nothing listens: any call that reached Docker would fail differently.
const nowhere = new Docker({ socketPath: "/nonexistent/atomic-test.sock" });
const sandbox = new DockerSandbox({ warm: 0, docker: nowhere });

async function rejection(request: unknown): Promise<unknown> {
  try {
    // Deliberately unvalidated: execute() must parse what it is given.
    await sandbox.execute(request as ExecuteRequest);
  } catch (error) {
    return error;
  }
  throw new Error("execute() resolved");
}

describe("sandbox request validation", () => {
  it("refuses an unknown language, listing the known ones", async () => {
    const error = await rejection({ language: "ruby", code: "puts 1" });
    expect(error).toBeInstanceOf(SandboxError);
    expect(error).toMatchObject({ code: "invalid_request", retryable: false });
    expect(String(error)).toContain('unknown language "ruby" (known: python, javascript, shell)');
  });

  it("refuses a limit above the host maximum with the limit and the maximum", async () => {
    const error = await rejection({ language: "python", code: "", limits: { memory_bytes: 64 * 1024 * MIB } });
    expect(error).toBeInstanceOf(SandboxLimitError);
    expect(error).toMatchObject({ code: "invalid_request", limit: "memory_bytes", maximum: 2048 * MIB });
  });

  it("refuses a request the wire schema refuses, saying where", async () => {
    expect(String(await rejection({ language: "python" }))).toMatch(/code: give `code` or `files`/);
    expect(String(await rejection({ language: "shell", code: "", files: [{ path: "../x", content: "" }] }))).toMatch(
      /files\.0\.path: "\.\.\/x" must be a relative path/,
    );
    // Names are limited in UTF-8 bytes, as tar and the file system count them, and hold no NUL.
    expect(
      String(await rejection({ language: "shell", files: [{ path: `${"é".repeat(128)}a`, content: "" }] })),
    ).toMatch(/files\.0\.path: "é+a" is 257 bytes in UTF-8; a path may have at most 256/);
    expect(String(await rejection({ language: "shell", files: [{ path: "a\0b", content: "" }] }))).toContain(
      'files.0.path: "a\\u0000b" contains a NUL character',
    );
    expect(String(await rejection({ language: "shell", code: "", limits: { memory_bytes: 1 } }))).toMatch(
      /limits\.memory_bytes/,
    );
  });

  it("refuses an entrypoint that is not among the files", async () => {
    const error = await rejection({ language: "python", files: [{ path: "a.py", content: "" }], entrypoint: "b.py" });
    expect(error).toMatchObject({ code: "invalid_request" });
  });

  it("answers sandbox_unavailable (retryable) when the engine cannot be reached", async () => {
    const error = await rejection({ language: "python", code: "print(1)" });
    expect(error).toMatchObject({ code: "sandbox_unavailable", retryable: true });
    expect(String(error)).toContain("Docker engine not reachable");
  });

  it("reports the engine as unavailable, saying why", async () => {
    const availability = await sandbox.availability();
    expect(availability.status).toBe("unavailable");
    expect(availability.detail).toMatch(
      /^Docker engine not reachable at unix:\/\/\/nonexistent\/atomic-test.sock: .*ENOENT/,
    );
  });
});
