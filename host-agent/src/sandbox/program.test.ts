import { describe, expect, it } from "vitest";
import { planProgram } from "./program.ts";
import { encodeRunInput, loaderCommand, shellQuote } from "./run-input.ts";
import { execFileSync } from "node:child_process";

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

  it("quotes every word so that sh hands it over unchanged", () => {
    const words = ["a b", "it's", "$HOME", "*", "`id`", "\\n", "", "-x", "'\"'"];
    const echoed = execFileSync("sh", ["-c", `printf '%s\\n' ${words.map(shellQuote).join(" ")}`], {
      encoding: "utf8",
    });
    expect(echoed).toBe(words.map((word) => `${word}\n`).join(""));
  });

  it("frames the files and command line ahead of stdin, lengths first", () => {
    const pieces = encodeRunInput(planProgram({ language: "shell", code: "cat", args: ["x"] }), "in");
    const bytes = Buffer.concat(pieces);
    const tarLength = Number(decoder.decode(bytes.subarray(0, 16)));
    expect(tarLength % 512).toBe(0);
    const rest = bytes.subarray(16 + tarLength);
    const commandLength = Number(decoder.decode(rest.subarray(0, 16)));
    expect(decoder.decode(rest.subarray(16, 16 + commandLength))).toBe("'sh' 'main.sh' 'x'");
    expect(decoder.decode(rest.subarray(16 + commandLength))).toBe("in");
  });

  it("execs the program under runc and relays its output under runsc, both valid sh", () => {
    const runc = loaderCommand("runc");
    const runsc = loaderCommand("runsc");
    expect(runc.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(runsc.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    // runc: nothing between the program and the container's stdout, no process but the program.
    expect(runc[2]?.endsWith('eval "exec $c"')).toBe(true);
    expect(runc[2]).not.toContain("cat");
    // runsc: the program writes into the relays' pipes, without the loader's descriptors.
    expect(runsc[2]).toContain(`(eval "exec setsid $c" >&7 2>&8 7>&- 8>&-)`);
    expect(runsc[2]?.endsWith('exit "$s"')).toBe(true);
    // Syntax only (-n executes nothing: the relaying loader must never run outside a container).
    for (const command of [runc, runsc]) execFileSync("sh", ["-n", "-c", command[2] ?? ""]);
  });
});
