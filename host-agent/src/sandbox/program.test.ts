import { describe, expect, it } from "vitest";
import { planProgram } from "./program.ts";
import { encodeRunInput, newRunNonce, supervisorCommand } from "./run-input.ts";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const decoder = new TextDecoder();

describe("program plan", () => {
  it("saves code as the language's main file and runs it with its interpreter", () => {
    expect(planProgram({ language: "python", code: "print(1)" }).argv).toEqual(["python3", "main.py"]);
    expect(planProgram({ language: "javascript", code: "1", args: ["a"] }).argv).toEqual(["node", "main.js", "a"]);
    expect(planProgram({ language: "shell", code: "echo" }).files.map((f) => f.path)).toEqual(["main.sh"]);
  });

  it("runs the entrypoint among several files, or the first file", () => {
    const files = [
      { path: "lib/util.py", content: "" },
      { path: "./app.py", content: "" },
    ];
    expect(planProgram({ language: "python", files }).argv).toEqual(["python3", "lib/util.py"]);
    expect(planProgram({ language: "python", files, entrypoint: "app.py" }).argv).toEqual(["python3", "app.py"]);
  });

  it("refuses an entrypoint that is not a file, a path given twice and NUL in args", () => {
    const files = [{ path: "a.py", content: "" }];
    expect(() => planProgram({ language: "python", files, entrypoint: "b.py" })).toThrow(
      /entrypoint "b.py" is not one of the files/,
    );
    expect(() => planProgram({ language: "python", code: "", files: [{ path: "./main.py", content: "" }] })).toThrow(
      /given twice/,
    );
    expect(() => planProgram({ language: "shell", code: "", args: ["a\0b"] })).toThrow(/NUL/);
  });

  it("frames the nonce, the files and the command line ahead of stdin, lengths first", () => {
    const nonce = newRunNonce();
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(newRunNonce()).not.toBe(nonce);
    const pieces = encodeRunInput(
      nonce,
      planProgram({ language: "shell", code: "cat", args: ["x y", "'$HOME'"] }),
      "in",
    );
    const bytes = Buffer.concat(pieces);
    expect(decoder.decode(bytes.subarray(0, 32))).toBe(nonce);
    const tarLength = Number(decoder.decode(bytes.subarray(32, 48)));
    expect(tarLength % 512).toBe(0);
    const rest = bytes.subarray(48 + tarLength);
    const commandLength = Number(decoder.decode(rest.subarray(0, 16)));
    // Words as they are, NUL between them: nothing is quoted, no shell reads them.
    expect(decoder.decode(rest.subarray(16, 16 + commandLength))).toBe("sh\0main.sh\0x y\0'$HOME'");
    expect(decoder.decode(rest.subarray(16 + commandLength))).toBe("in");
  });

  it("runs the supervisor with python3 -c, relaying the output under runsc only", () => {
    const runc = supervisorCommand("runc");
    const runsc = supervisorCommand("runsc");
    expect(runc.slice(0, 2)).toEqual(["python3", "-c"]);
    expect(runc).toHaveLength(3);
    expect(runsc).toEqual([...runc, "--relay"]);
    expect(runc[2]).toBe(readFileSync(new URL("../../sandbox/supervisor.py", import.meta.url), "utf8"));
  });

  it("has a supervisor that refuses to start anywhere but as a container's PID 1", () => {
    // It would kill(-1) every process of the user: outside a container it must do nothing at all.
    const run = spawnSync("python3", ["-c", supervisorCommand("runc")[2] ?? ""], { input: "x", encoding: "utf8" });
    expect(run.status).toBe(125);
    expect(run.stderr).toBe("atomic-sandbox: the supervisor runs only as a container's PID 1\n");
  });
});
