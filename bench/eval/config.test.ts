import { describe, expect, it } from "vitest";
import { evalConfig, selectTasks } from "./config.ts";
import type { EvalTask } from "./task.ts";

const task = (id: string, language: EvalTask["language"], offline: boolean): EvalTask => ({
  id,
  language,
  offline,
  prompt: id,
  metadata: { language },
  hidden: [],
});
const TASKS = [
  task("py-a", "python", true),
  task("py-b", "python", false),
  task("js-a", "javascript", true),
  task("ts-a", "typescript", false),
];
const ids = (tasks: EvalTask[]) => tasks.map((t) => t.id);

describe("evalConfig", () => {
  it("has defaults", () => {
    expect(evalConfig({})).toEqual({
      filter: null,
      concurrency: 2,
      maxRepairs: 2,
      taskTimeoutS: 900,
      hiddenTimeoutS: 90,
      model: null,
    });
  });

  it("reads the settings and the model", () => {
    const config = evalConfig({
      ATOMIC_EVAL_TASKS: " py-a, ts-* ,",
      ATOMIC_EVAL_CONCURRENCY: "4",
      ATOMIC_EVAL_MAX_REPAIRS: "0",
      ATOMIC_LLM_BASE_URL: "http://127.0.0.1:11434/v1",
      ATOMIC_LLM_MODEL: "qwen2.5-coder",
    });
    expect(config.filter).toEqual(["py-a", "ts-*"]);
    expect(config.concurrency).toBe(4);
    expect(config.maxRepairs).toBe(0);
    expect(config.model).toEqual({ baseUrl: "http://127.0.0.1:11434/v1", name: "qwen2.5-coder" });
  });

  it("refuses a bad number, naming the variable", () => {
    expect(() => evalConfig({ ATOMIC_EVAL_CONCURRENCY: "0" })).toThrow(/ATOMIC_EVAL_CONCURRENCY.*1 to 64/);
    expect(() => evalConfig({ ATOMIC_EVAL_MAX_REPAIRS: "11" })).toThrow(/ATOMIC_EVAL_MAX_REPAIRS/);
    expect(() => evalConfig({ ATOMIC_EVAL_MAX_REPAIRS: "two" })).toThrow(/ATOMIC_EVAL_MAX_REPAIRS/);
  });
});

describe("selectTasks", () => {
  it("takes every task without a filter", () => {
    expect(ids(selectTasks(TASKS, null))).toEqual(["py-a", "py-b", "js-a", "ts-a"]);
  });

  it("selects by id, glob, language and kind, in the tasks' order", () => {
    expect(ids(selectTasks(TASKS, ["ts-a", "py-a"]))).toEqual(["py-a", "ts-a"]);
    expect(ids(selectTasks(TASKS, ["py-*"]))).toEqual(["py-a", "py-b"]);
    expect(ids(selectTasks(TASKS, ["js", "typescript"]))).toEqual(["js-a", "ts-a"]);
    expect(ids(selectTasks(TASKS, ["offline"]))).toEqual(["py-a", "js-a"]);
    expect(ids(selectTasks(TASKS, ["hard"]))).toEqual(["py-b", "ts-a"]);
  });

  it("leaves out what a !item matches", () => {
    expect(ids(selectTasks(TASKS, ["!python"]))).toEqual(["js-a", "ts-a"]);
    expect(ids(selectTasks(TASKS, ["offline", "!js-a"]))).toEqual(["py-a"]);
  });

  it("refuses an item that matches nothing, listing the ids", () => {
    expect(() => selectTasks(TASKS, ["py-zz"])).toThrow(/"py-zz" matches no task \(ids: py-a, py-b, js-a, ts-a/);
  });
});
