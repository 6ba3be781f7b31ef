import { describe, expect, it } from "vitest";
import { splitFiles } from "../split-files.ts";
import { mergeProgram, renderProgram, sameFiles } from "./program.ts";

const file = (path: string, content: string, language: string | null = "python") => ({ path, content, language });

describe("mergeProgram", () => {
  it("replaces the files a repair answers, keeps the ones it leaves out and adds new ones", () => {
    const current = [file("app.py", "v1\n"), file("test_app.py", "t1\n")];
    const merged = mergeProgram(current, [file("app.py", "v2\n"), file("util.py", "u\n")], []);
    expect(merged.files).toEqual([file("app.py", "v2\n"), file("test_app.py", "t1\n"), file("util.py", "u\n")]);
    expect(merged.rejected).toEqual([]);
  });

  it("keeps pinned files' text whatever the answer says, and names each it tried to change", () => {
    const pinned = [{ path: "tests/test_api.py", content: "assert add(1, 2) == 3" }];
    const answer = [file("app.py", "def add(a, b): return a + b\n"), file("tests/test_api.py", "assert True\n")];
    const merged = mergeProgram([file("app.py", "def add(a, b): return 0\n")], answer, pinned);
    expect(merged.rejected).toEqual(["tests/test_api.py"]);
    expect(merged.files.find((f) => f.path === "tests/test_api.py")?.content).toBe("assert add(1, 2) == 3");
    // The same text (up to the newline a fence adds) is no change.
    expect(mergeProgram([], [file("tests/test_api.py", "assert add(1, 2) == 3\n")], pinned).rejected).toEqual([]);
  });

  it("adds pinned files the model never wrote", () => {
    const merged = mergeProgram([], [file("main.py", "x\n")], [{ path: "test_main.py", content: "y\n" }]);
    expect(merged.files.map((f) => f.path)).toEqual(["main.py", "test_main.py"]);
    expect(merged.files[1]?.language).toBe("python");
  });
});

describe("renderProgram", () => {
  it("renders files that split back into the same files", () => {
    const files = [
      file("app.ts", "export const x = 1;\n", "typescript"),
      file("README.md", "Run:\n```sh\nnode app.ts\n```\n", "markdown"),
      file("src/a.py", "print('`')\n"),
    ];
    const text = renderProgram(files);
    const back = splitFiles(text, "main.py", "python");
    expect(sameFiles(back, files)).toBe(true);
    // A file holding a fence gets a longer one around it.
    expect(text).toContain("````markdown README.md\n");
  });
});
