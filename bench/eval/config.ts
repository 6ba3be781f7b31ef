/** `npm run eval`'s settings, from the environment, and which tasks a run takes. */
import { LIMITS } from "../../shared/src/index.ts";
import { EVAL_LANGUAGES, type EvalTask } from "./task.ts";

export interface EvalConfig {
  /** ATOMIC_EVAL_TASKS, split at commas; null: every task. */
  filter: string[] | null;
  /** ATOMIC_EVAL_CONCURRENCY: pipelines (with their hidden runs) at once. */
  concurrency: number;
  /** ATOMIC_EVAL_MAX_REPAIRS: each request's `max_repairs`. */
  maxRepairs: number;
  /** ATOMIC_EVAL_TASK_TIMEOUT_S: a pipeline still running after this is cancelled and counted as failed. */
  taskTimeoutS: number;
  /** ATOMIC_EVAL_HIDDEN_TIMEOUT_S: the verification driver's limit for one hidden-test run. */
  hiddenTimeoutS: number;
  /** The model the Python agent asks, or null for the offline provider. */
  model: { baseUrl: string; name: string | null } | null;
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function evalConfig(env: NodeJS.ProcessEnv = process.env): EvalConfig {
  const filter = (env["ATOMIC_EVAL_TASKS"] ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  const baseUrl = env["ATOMIC_LLM_BASE_URL"]?.trim() ?? "";
  return {
    filter: filter.length === 0 ? null : filter,
    concurrency: intSetting(env, "ATOMIC_EVAL_CONCURRENCY", 2, 1, 64),
    maxRepairs: intSetting(env, "ATOMIC_EVAL_MAX_REPAIRS", 2, 0, LIMITS.maxRepairs),
    taskTimeoutS: intSetting(env, "ATOMIC_EVAL_TASK_TIMEOUT_S", 900, 10, 86_400),
    hiddenTimeoutS: intSetting(env, "ATOMIC_EVAL_HIDDEN_TIMEOUT_S", 90, 5, 280),
    model: baseUrl === "" ? null : { baseUrl, name: env["ATOMIC_LLM_MODEL"]?.trim() || null },
  };
}

const LANGUAGE_ALIASES: Record<string, string> = { py: "python", js: "javascript", ts: "typescript" };

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}

/**
 * The tasks a filter selects, in the order of `tasks`. Each item of the filter is a task id, a
 * glob over ids (`ts-*`), a language (`python`, or `py`/`js`/`ts`), `offline` (tasks the offline
 * templates answer) or `hard` (the others); an item starting with `!` removes what it matches.
 * Only removals: every task but those. An item that matches nothing is an error naming the ids.
 */
export function selectTasks(tasks: readonly EvalTask[], filter: readonly string[] | null): EvalTask[] {
  if (filter === null) return [...tasks];
  const matcher = (item: string): ((task: EvalTask) => boolean) => {
    const lower = item.toLowerCase();
    const language = LANGUAGE_ALIASES[lower] ?? lower;
    if ((EVAL_LANGUAGES as readonly string[]).includes(language)) return (task) => task.language === language;
    if (lower === "offline") return (task) => task.offline;
    if (lower === "hard") return (task) => !task.offline;
    const pattern = globToRegExp(item);
    return (task) => pattern.test(task.id);
  };
  const includes = filter.filter((item) => !item.startsWith("!"));
  const excludes = filter.filter((item) => item.startsWith("!")).map((item) => item.slice(1));
  for (const item of [...includes, ...excludes]) {
    if (!tasks.some(matcher(item))) {
      throw new Error(
        `ATOMIC_EVAL_TASKS: ${JSON.stringify(item)} matches no task (ids: ${tasks.map((t) => t.id).join(", ")}; ` +
          "or a language, a glob such as ts-*, offline, hard, !item to leave out)",
      );
    }
  }
  const included = includes.length === 0 ? () => true : (task: EvalTask) => includes.some((i) => matcher(i)(task));
  return tasks.filter((task) => included(task) && !excludes.some((item) => matcher(item)(task)));
}
