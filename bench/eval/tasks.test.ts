import { describe, expect, it } from "vitest";
import { GenerateRequest, LIMITS } from "../../shared/src/index.ts";
import { isTestFile } from "./hidden.ts";
import { filesOfAnswer, sameProgram } from "./program.ts";
import { EVAL_LANGUAGES } from "./task.ts";
import { TASKS } from "./tasks.ts";

const HIDDEN_NAME = {
  python: /^test_eval_[a-z0-9_]+\.py$/,
  javascript: /^[a-z0-9-]+\.test\.mjs$/,
  typescript: /^[a-z0-9-]+\.test\.ts$/,
};

describe("the eval's tasks", () => {
  it("are at least 20, at least 6 per language, with unique ids named by language", () => {
    expect(TASKS.length).toBeGreaterThanOrEqual(20);
    for (const language of EVAL_LANGUAGES) {
      expect(TASKS.filter((t) => t.language === language).length, language).toBeGreaterThanOrEqual(6);
    }
    expect(new Set(TASKS.map((t) => t.id)).size).toBe(TASKS.length);
    for (const task of TASKS)
      expect(task.id).toMatch({ python: /^py-/, javascript: /^js-/, typescript: /^ts-/ }[task.language]);
  });

  it("hold the seed's example: a REST API for user management in TypeScript on express", () => {
    const seed = TASKS.find((t) => t.prompt.startsWith("Create a REST API for user management"));
    expect(seed?.metadata).toEqual({ language: "typescript", framework: "express" });
  });

  it("mix tasks for the offline templates with harder ones in every language", () => {
    for (const language of EVAL_LANGUAGES) {
      const of = TASKS.filter((t) => t.language === language);
      expect(
        of.some((t) => t.offline),
        language,
      ).toBe(true);
      expect(
        of.some((t) => !t.offline),
        language,
      ).toBe(true);
    }
  });

  it("are valid requests as the harness sends them", () => {
    for (const task of TASKS) {
      const request = GenerateRequest.safeParse({
        prompt: task.prompt,
        metadata: { ...task.metadata, verify: true, max_repairs: 2 },
        async: true,
      });
      expect(request.success, `${task.id}: ${request.error?.message ?? ""}`).toBe(true);
      expect(task.metadata.language).toBe(task.language);
    }
  });

  it("have hidden tests the runner finds by name and the harness never takes for the model's", () => {
    for (const task of TASKS) {
      expect(task.hidden.length, task.id).toBeGreaterThan(0);
      for (const file of task.hidden) {
        expect(file.path, task.id).toMatch(HIDDEN_NAME[task.language]);
        expect(file.content.length).toBeLessThan(LIMITS.executeCodeMaxBytes);
      }
    }
    const names = TASKS.flatMap((t) => t.hidden.map((f) => f.path));
    expect(new Set(names).size).toBe(names.length);
  });

  it("name in their prompts the module their hidden tests import", () => {
    for (const task of TASKS) {
      for (const file of task.hidden) {
        const imported = [
          ...file.content.matchAll(/^from (\w+) import/gm),
          ...file.content.matchAll(/from "\.\.\/([\w.-]+)"/g),
          ...file.content.matchAll(/\[sys\.executable, "([\w.]+)"/g),
          ...file.content.matchAll(/spawn\(process\.execPath, \["([\w.]+)"\]/g),
        ].map((m) => m[1] ?? "");
        expect(imported.length, task.id).toBeGreaterThan(0);
        for (const name of imported) {
          const module = task.language === "python" && !name.endsWith(".py") ? `${name}.py` : name;
          if (["pytest", "pathlib", "random"].includes(name)) continue;
          expect(task.prompt, `${task.id} imports ${module}`).toContain(module);
        }
      }
    }
  });
});

describe("the first answer's files", () => {
  it("are cut as the edge cuts them, an unnamed block taking the entry file", () => {
    const text = "Here:\n\n```python\nprint(1)\n```\n\n```python test_main.py\nimport main\n```\n";
    const files = filesOfAnswer(text, { entry_file: "main.py", language: "python" });
    expect(files).toEqual([
      { path: "main.py", content: "print(1)\n" },
      { path: "test_main.py", content: "import main\n" },
    ]);
    expect(files.filter((f) => isTestFile(f.path)).map((f) => f.path)).toEqual(["test_main.py"]);
  });

  it("compare by path and text, in any order", () => {
    const a = { path: "a.py", content: "1" };
    const b = { path: "b.py", content: "2" };
    expect(sameProgram([a, b], [b, a])).toBe(true);
    expect(sameProgram([a, b], [a, { ...b, content: "3" }])).toBe(false);
    expect(sameProgram([a], [a, b])).toBe(false);
  });
});
