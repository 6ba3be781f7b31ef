import { describe, expect, it } from "vitest";
import { requirementsByRules } from "./rules.ts";

describe("requirementsByRules: metadata wins over the prompt", () => {
  it("takes language and framework from metadata, trimmed and lower-cased, over prompt keywords", () => {
    expect(requirementsByRules("A Flask service in Python", { language: " TypeScript ", framework: "Hono" })).toEqual({
      language: "typescript",
      framework: "hono",
      entry_file: "main.ts",
      summary: "A Flask service in Python",
      source: "rules",
    });
  });

  it("falls back to the prompt for a blank or non-string metadata value", () => {
    const requirements = requirementsByRules("A Django site", { language: "   ", framework: 42 });
    expect([requirements.language, requirements.framework, requirements.entry_file]).toEqual([
      "python",
      "django",
      "main.py",
    ]);
  });

  it("takes each of the two from metadata on its own", () => {
    const requirements = requirementsByRules("An Express API in JavaScript", { framework: "fastify" });
    expect([requirements.language, requirements.framework]).toEqual(["javascript", "fastify"]);
  });
});

describe("requirementsByRules: keywords in the prompt", () => {
  const cases: Array<[string, string, string | null]> = [
    ["Write a TypeScript CLI", "typescript", null],
    ["A TypeScript server on Node.js", "typescript", null],
    ["A ts module that sorts", "typescript", null],
    ["A Deno script", "typescript", null],
    ["An Express API in JavaScript", "javascript", "express"],
    ["A Node.js script that calls a shell command", "javascript", null],
    ["A nodejs worker", "javascript", null],
    ["A Node server with Hono", "javascript", "hono"],
    ["A FastAPI service", "python", "fastapi"],
    ["A Flask app", "python", "flask"],
    ["A Django site with a React front end", "python", "django"],
    ["A word counter in Go", "go", null],
    ["A golang HTTP proxy", "go", null],
    ["A Rust crate that parses TOML", "rust", null],
    ["A bash script that backs up /etc", "shell", null],
    ["A Java program", "java", null],
    ["A Rails app", "ruby", null],
    // Named languages win over the runtime word: a tree's node is not Node.js.
    ["A Python function that inserts a node into a binary search tree", "python", null],
    ["A shell script that restarts a node process", "shell", null],
  ];
  it.each(cases)("reads %j as %s (framework %s)", (prompt, language, framework) => {
    const requirements = requirementsByRules(prompt, {});
    expect([requirements.language, requirements.framework]).toEqual([language, framework]);
  });

  it("matches whole words only", () => {
    // "trust" holds "rust", "json" holds "js", "going" holds "go", "JavaScript" holds "Java".
    expect(requirementsByRules("Trust but verify the json going out", {}).language).toBe("python");
    expect(requirementsByRules("JavaScript, please", {}).language).toBe("javascript");
  });

  it("ignores case", () => {
    expect(requirementsByRules("RUST PLEASE", {}).language).toBe("rust");
  });
});

describe("requirementsByRules: entry files", () => {
  const entries: Array<[string, string]> = [
    ["typescript", "main.ts"],
    ["javascript", "main.js"],
    ["python", "main.py"],
    ["go", "main.go"],
    ["rust", "main.rs"],
    ["shell", "main.sh"],
    ["java", "main.java"],
    ["ruby", "main.rb"],
    // An alias given in metadata still gets its extension; an unknown language gets .txt.
    ["py", "main.py"],
    ["bash", "main.sh"],
    ["elixir", "main.txt"],
  ];
  it.each(entries)("names the entry file of %s %s", (language, entry) => {
    expect(requirementsByRules("Anything", { language }).entry_file).toBe(entry);
  });
});

describe("requirementsByRules: the default", () => {
  it("is Python with no framework when neither metadata nor prompt names anything", () => {
    expect(requirementsByRules("Print the first ten primes", {})).toEqual({
      language: "python",
      framework: null,
      entry_file: "main.py",
      summary: "Print the first ten primes",
      source: "rules",
    });
  });
});

describe("requirementsByRules: the summary", () => {
  it("collapses whitespace runs and trims the ends", () => {
    expect(requirementsByRules("  Write\n\n a\t\ttool \r\n that   counts  ", {}).summary).toBe(
      "Write a tool that counts",
    );
  });

  it("keeps the first 200 characters of a long prompt", () => {
    const prompt = `${"word ".repeat(100)}end`;
    const summary = requirementsByRules(prompt, {}).summary;
    expect(summary).toHaveLength(200);
    expect(summary).toBe(prompt.slice(0, 200));
  });

  it("keeps a prompt of exactly 200 characters whole", () => {
    const prompt = "x".repeat(200);
    expect(requirementsByRules(prompt, {}).summary).toBe(prompt);
  });

  it("never cuts a character in half at the limit", () => {
    const prompt = `${"a".repeat(199)}😀 and more`;
    const summary = requirementsByRules(prompt, {}).summary;
    // Half of the emoji's surrogate pair would reach clients as U+FFFD.
    expect(summary).toBe("a".repeat(199));
  });
});
