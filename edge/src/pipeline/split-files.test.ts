import { describe, expect, it } from "vitest";
import { splitFiles } from "./split-files.ts";

/** Generated text, one array item a line. */
const md = (...lines: string[]): string => lines.join("\n");

describe("splitFiles: fenced blocks with names", () => {
  it("takes each block's path from its info string and keeps the prose out", () => {
    const text = md(
      "Here is the program:",
      "",
      "```python main.py",
      "from util import greet",
      "print(greet())",
      "```",
      "It uses a helper:",
      '```ts title="src/util.ts"',
      'export const greet = () => "hi";',
      "```",
      "```js:web/index.js",
      "console.log(1);",
      "```",
      "```yaml filename=config/app.yml",
      "port: 8080",
      "```",
      "Run it with `python main.py`.",
    );
    expect(splitFiles(text, "main.py", "python")).toEqual([
      { path: "main.py", content: "from util import greet\nprint(greet())\n", language: "python" },
      { path: "src/util.ts", content: 'export const greet = () => "hi";\n', language: "typescript" },
      { path: "web/index.js", content: "console.log(1);\n", language: "javascript" },
      { path: "config/app.yml", content: "port: 8080\n", language: "yaml" },
    ]);
  });

  it("reads a lone file name as the path and its extension as the language", () => {
    expect(splitFiles(md("```cmd/server.go", "package main", "```"), "main.py", "python")).toEqual([
      { path: "cmd/server.go", content: "package main\n", language: "go" },
    ]);
  });

  it("turns a language alias into its name (py, bash, sh)", () => {
    const text = md("```py app.py", "x = 1", "```", "```bash run.sh", "echo hi", "```", "```sh:ci/test", "true", "```");
    expect(splitFiles(text, "main.py", "python")).toEqual([
      { path: "app.py", content: "x = 1\n", language: "python" },
      { path: "run.sh", content: "echo hi\n", language: "shell" },
      { path: "ci/test", content: "true\n", language: "shell" },
    ]);
  });

  it("normalizes a leading ./ and backslashes into a relative forward-slash path", () => {
    const text = md("```python ./pkg\\util.py", "X = 1", "```");
    expect(splitFiles(text, "main.py", "python")).toEqual([
      { path: "pkg/util.py", content: "X = 1\n", language: "python" },
    ]);
  });

  it("closes a block only on a fence of its own kind at least as long, with no info string", () => {
    const text = md(
      "````markdown README.md",
      "Usage:",
      "```python",
      "print(1)",
      "```",
      "~~~",
      "```` still inside",
      "````",
      "~~~sh run.sh",
      "echo '```'",
      "``` not a close",
      "~~~~",
    );
    expect(splitFiles(text, "main.py", "python")).toEqual([
      {
        path: "README.md",
        content: "Usage:\n```python\nprint(1)\n```\n~~~\n```` still inside\n",
        language: "markdown",
      },
      { path: "run.sh", content: "echo '```'\n``` not a close\n", language: "shell" },
    ]);
  });

  it("keeps an empty block as an empty file", () => {
    expect(splitFiles(md("```python empty.py", "```"), "main.py", "python")).toEqual([
      { path: "empty.py", content: "", language: "python" },
    ]);
  });
});

describe("splitFiles: unnamed blocks", () => {
  it("gives the first unnamed block the entry file and later ones file-N with their language's extension", () => {
    const text = md("```python", "print(1)", "```", "```", "plain", "```", "```bash", "echo hi", "```");
    expect(splitFiles(text, "main.py", "python")).toEqual([
      { path: "main.py", content: "print(1)\n", language: "python" },
      // No language on the fence: the requirements' language picks the extension.
      { path: "file-2.py", content: "plain\n", language: "python" },
      { path: "file-3.sh", content: "echo hi\n", language: "shell" },
    ]);
  });

  it("does not give the entry file to an unnamed block when a named block already holds it", () => {
    const text = md("```python main.py", "A = 1", "```", "```python", "B = 2", "```");
    expect(splitFiles(text, "main.py", "python").map((f) => [f.path, f.content])).toEqual([
      ["main.py", "A = 1\n"],
      ["file-1.py", "B = 2\n"],
    ]);
  });

  it("names a block of an unknown language .txt and keeps the language it was given", () => {
    const text = md("```python main.py", "A = 1", "```", "```haskell", "main = print 1", "```");
    expect(splitFiles(text, "main.py", "python")[1]).toEqual({
      path: "file-1.txt",
      content: "main = print 1\n",
      language: "haskell",
    });
  });

  it("takes the language of an unnamed, untagged block from the entry file's extension", () => {
    expect(splitFiles(md("```", "console.log(1)", "```"), "main.js", "javascript")).toEqual([
      { path: "main.js", content: "console.log(1)\n", language: "javascript" },
    ]);
  });
});

describe("splitFiles: paths it refuses", () => {
  const refused: Array<[string, string]> = [
    ["a parent-directory escape", "../evil.py"],
    ["an escape in the middle", "src/../../evil.py"],
    ["an escape written with backslashes", "..\\..\\evil.py"],
    ["an absolute path", "/etc/cron.d/evil.py"],
    ["an absolute path written with a backslash", "\\etc\\evil.py"],
    ["a path longer than 256 characters", `${"a".repeat(254)}.py`],
    ["an empty segment", "src//evil.py"],
    ["a dot segment", "src/./evil.py"],
  ];
  it.each(refused)("gives %s the entry file instead (%s)", (_what, path) => {
    const files = splitFiles(md(`\`\`\`python ${path}`, "print('x')", "```"), "main.py", "python");
    expect(files).toEqual([{ path: "main.py", content: "print('x')\n", language: "python" }]);
  });

  it("gives a second refused path the next unnamed name", () => {
    const text = md("```python ../a.py", "A = 1", "```", "```python /b.py", "B = 2", "```");
    expect(splitFiles(text, "main.py", "python").map((f) => f.path)).toEqual(["main.py", "file-2.py"]);
  });

  it("refuses a path with a control character", () => {
    const files = splitFiles(md('```python title="a\u0001b.py"', "X = 1", "```"), "main.py", "python");
    expect(files.map((f) => f.path)).toEqual(["main.py"]);
  });

  it("accepts a path of exactly 256 characters", () => {
    const path = `${"a".repeat(253)}.py`;
    expect(splitFiles(md(`\`\`\`python ${path}`, "X = 1", "```"), "main.py", "python")[0]?.path).toBe(path);
  });
});

describe("splitFiles: duplicate names", () => {
  it("numbers later blocks of the same name before the extension", () => {
    const text = md("```python main.py", "A", "```", "```python main.py", "B", "```", "```python main.py", "C", "```");
    expect(splitFiles(text, "main.py", "python").map((f) => [f.path, f.content])).toEqual([
      ["main.py", "A\n"],
      ["main-2.py", "B\n"],
      ["main-3.py", "C\n"],
    ]);
  });

  it("numbers the last extension of a dotted name, and the end of a name without one", () => {
    const text = md(
      "```ts src/app.test.ts",
      "a",
      "```",
      "```ts src/app.test.ts",
      "b",
      "```",
      "```dockerfile title=Dockerfile",
      "c",
      "```",
      "```dockerfile title=Dockerfile",
      "d",
      "```",
      "```text v1.2/notes",
      "e",
      "```",
      "```text v1.2/notes",
      "f",
      "```",
    );
    expect(splitFiles(text, "main.ts", "typescript").map((f) => f.path)).toEqual([
      "src/app.test.ts",
      "src/app.test-2.ts",
      "Dockerfile",
      "Dockerfile-2",
      "v1.2/notes",
      "v1.2/notes-2",
    ]);
  });

  it("never yields two files with one path, even when a later name is a renamed one", () => {
    const text = md(
      "```python main.py",
      "A",
      "```",
      "```python main.py",
      "B",
      "```",
      "```python main-2.py",
      "C",
      "```",
      "```python file-2.py",
      "D",
      "```",
      "```python",
      "E",
      "```",
      "```python",
      "F",
      "```",
    );
    const files = splitFiles(text, "main.py", "python");
    expect(files.map((f) => [f.path, f.content])).toEqual([
      ["main.py", "A\n"],
      ["main-2.py", "B\n"],
      ["main-2-2.py", "C\n"],
      ["file-2.py", "D\n"],
      ["file-1.py", "E\n"],
      ["file-2-2.py", "F\n"],
    ]);
    expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
  });
});

describe("splitFiles: no fences at all", () => {
  it("makes the whole text one file at the entry path in the requirements' language", () => {
    expect(splitFiles('print("hi")', "main.py", "python")).toEqual([
      { path: "main.py", content: 'print("hi")\n', language: "python" },
    ]);
  });

  it("keeps a text that already ends in a newline as it is, prose included", () => {
    const text = "#!/bin/sh\n# prints hi\necho hi\n";
    expect(splitFiles(text, "main.sh", "shell")).toEqual([{ path: "main.sh", content: text, language: "shell" }]);
  });

  it("yields no file for an empty or blank text", () => {
    expect(splitFiles("", "main.py", "python")).toEqual([]);
    expect(splitFiles(" \n\t\n", "main.py", "python")).toEqual([]);
  });

  it("does not take an indented fence for a block", () => {
    const text = "Example:\n    ```python x.py\n    print(1)\n    ```\n";
    expect(splitFiles(text, "main.py", "python")).toEqual([{ path: "main.py", content: text, language: "python" }]);
  });
});

describe("splitFiles: CRLF line endings", () => {
  it("reads fences and names through a carriage return and keeps the body's CRLF", () => {
    const text = "Here:\r\n```python app.py\r\nprint(1)\r\nprint(2)\r\n```\r\n```js:web/x.js\r\nx()\r\n```\r\n";
    expect(splitFiles(text, "main.py", "python")).toEqual([
      { path: "app.py", content: "print(1)\r\nprint(2)\r\n", language: "python" },
      { path: "web/x.js", content: "x()\r\n", language: "javascript" },
    ]);
  });

  it("keeps a carriage return out of an unnamed block's language", () => {
    expect(splitFiles("```python\r\nprint(1)\r\n```\r\n", "main.py", "python")).toEqual([
      { path: "main.py", content: "print(1)\r\n", language: "python" },
    ]);
  });
});

describe("splitFiles: a fence left open at the end", () => {
  it("still yields what the block holds, ending in one newline", () => {
    expect(splitFiles(md("Here:", "```python main.py", "print(1)", "print(2)"), "main.py", "python")).toEqual([
      { path: "main.py", content: "print(1)\nprint(2)\n", language: "python" },
    ]);
  });

  it("does not add a second newline when the cut text ends in one", () => {
    expect(splitFiles("```python main.py\nprint(1)\n", "main.py", "python")).toEqual([
      { path: "main.py", content: "print(1)\n", language: "python" },
    ]);
    expect(splitFiles("```python main.py\r\nprint(1)\r\n", "main.py", "python")).toEqual([
      { path: "main.py", content: "print(1)\r\n", language: "python" },
    ]);
  });

  it("keeps the closed blocks before it", () => {
    const text = md("```python a.py", "A = 1", "```", "```python b.py", "B = 2");
    expect(splitFiles(text, "main.py", "python").map((f) => [f.path, f.content])).toEqual([
      ["a.py", "A = 1\n"],
      ["b.py", "B = 2\n"],
    ]);
  });

  it("yields no file for a fence cut right after it opened, rather than the prose as code", () => {
    expect(splitFiles("Here is the code:\n\n```python", "main.py", "python")).toEqual([]);
    expect(splitFiles("Here is the code:\n\n```python\n", "main.py", "python")).toEqual([]);
  });
});
