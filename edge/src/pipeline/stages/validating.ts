import type { ExecuteRequest, SandboxLanguage, ValidationOutcome } from "../../../../shared/src/index.ts";
import { ExecuteResult } from "../../../../shared/src/index.ts";
import { requirementsOf } from "../rules.ts";
import { splitFiles } from "../split-files.ts";
import type { StageContext, StageHandler, StageStep } from "../stage.ts";

const RUNNABLE: Record<string, SandboxLanguage> = { python: "python", javascript: "javascript", shell: "shell" };

/** How long a validation run may take: a generated program is small, and a server never ends. */
const VALIDATION_TIMEOUT_SECONDS = 10;

function skipped(ctx: StageContext, language: string, entry: string, reason: string): StageStep {
  const validation: ValidationOutcome = {
    passed: false,
    language,
    entry_file: entry,
    result: null,
    skipped_reason: reason,
  };
  ctx.emitValidation(validation);
  return { kind: "complete", patch: { validation } };
}

/**
 * VALIDATING (with `metadata.validate: true`): runs the generated program in the sandbox of a
 * host-agent and records what happened. A program that fails is recorded, not fatal: the files
 * are still packaged, and the result says whether they ran.
 */
export const validatingStage: StageHandler = {
  name: "VALIDATING",
  applies: (request) => request.metadata?.validate === true,
  async start(ctx) {
    const requirements = requirementsOf(ctx.record);
    const files = splitFiles(ctx.content(), requirements.entry_file, requirements.language);
    const language = RUNNABLE[requirements.language];
    const entry =
      files.find((f) => f.path === requirements.entry_file) ??
      files.find((f) => f.language === requirements.language) ??
      files[0];
    if (!entry) return skipped(ctx, requirements.language, requirements.entry_file, "the output holds no file to run");
    if (!language)
      return skipped(ctx, requirements.language, entry.path, `the sandbox has no runtime for ${requirements.language}`);
    const request: ExecuteRequest = {
      language,
      files: files.map((f) => ({ path: f.path, content: f.content })),
      entrypoint: entry.path,
      limits: { timeout_seconds: VALIDATION_TIMEOUT_SECONDS },
    };
    return { kind: "job", job: { kind: "sandbox.execute", payload: request, mode: "wait" } };
  },
  /** No sandbox took the run: the files are still packaged, and the result says why they did not run. */
  async onUnavailable(ctx, error) {
    const requirements = requirementsOf(ctx.record);
    return skipped(ctx, requirements.language, requirements.entry_file, `${error.code}: ${error.message}`);
  },
  async onResult(ctx, outcome) {
    const requirements = requirementsOf(ctx.record);
    if (!outcome.ok) {
      if (outcome.error.retryable && outcome.error.code !== "no_agent")
        return { kind: "fail", error: outcome.error, retryable: true };
      return skipped(
        ctx,
        requirements.language,
        requirements.entry_file,
        `${outcome.error.code}: ${outcome.error.message}`,
      );
    }
    const result = ExecuteResult.safeParse(outcome.result);
    if (!result.success)
      return skipped(ctx, requirements.language, requirements.entry_file, "the sandbox answered an invalid result");
    const validation: ValidationOutcome = {
      passed: result.data.exit_code === 0 && !result.data.timed_out && !result.data.oom_killed,
      language: requirements.language,
      entry_file: requirements.entry_file,
      result: result.data,
    };
    ctx.emitValidation(validation);
    return { kind: "complete", patch: { validation } };
  },
};
