/** What one task of `npm run eval` is: a request for a pipeline, and the tests its answer never sees. */

export type EvalLanguage = "python" | "javascript" | "typescript";
export const EVAL_LANGUAGES: readonly EvalLanguage[] = ["python", "javascript", "typescript"];

/** A file of the hidden tests: its name (placed in `.eval/` beside the program) and its text. */
export interface HiddenFile {
  path: string;
  content: string;
}

export interface EvalTask {
  /** Short and unique, e.g. `py-roman`: what ATOMIC_EVAL_TASKS names. */
  id: string;
  language: EvalLanguage;
  /**
   * Whether the offline provider's templates are meant to pass the hidden tests. With the offline
   * provider the report checks this (a smoke test of the whole loop); with a real model it is only
   * a label: the other tasks are the harder ones.
   */
  offline: boolean;
  /** Exact about file names, module system and signatures, so the hidden tests can import the program. */
  prompt: string;
  /** The request's metadata; the harness adds `verify: true` and `max_repairs`. */
  metadata: { language: EvalLanguage; framework?: string };
  /** The hidden tests, run against the first answer and against the final files. */
  hidden: HiddenFile[];
}
