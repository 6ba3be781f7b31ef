import type { ErrorBody, RepairPayload } from "../../../../shared/src/index.ts";
import { GenerateResult, LIMITS, utf8Length } from "../../../../shared/src/index.ts";
import { JOB_PAYLOAD_MAX_BYTES } from "../../jobs/job.ts";
import { requirementsOf } from "../rules.ts";
import { splitFiles } from "../split-files.ts";
import type { StageContext, StageHandler, StageStep } from "../stage.ts";
import { failureBrief } from "../verification/failure-brief.ts";
import { mergeProgram, renderProgram } from "../verification/program.ts";
import { programFiles } from "./program-files.ts";

/**
 * The loop ends here without another round: the last verification's verdict (failed) stands, with
 * a note of why no repair came.
 */
function stop(ctx: StageContext, note: string): StageStep {
  ctx.finishContent();
  const verification = ctx.record.verification;
  return { kind: "complete", patch: verification === null ? {} : { verification: { ...verification, note } } };
}

function failedRepair(ctx: StageContext, error: ErrorBody): StageStep {
  return stop(ctx, `repair round ${ctx.stage.round ?? 1} could not run (${error.code}: ${error.message})`);
}

/**
 * REPAIRING: after a failed verification, an `llm.repair` job gives the model the request, the
 * program's files and the failures (trimmed to LIMITS.repairFailuresMaxChars), and streams its
 * answer to clients as chunks. The files it answers replace those of the same path; files it
 * leaves out stay; pinned files keep their pinned text whatever it says. VERIFYING runs next.
 */
export const repairingStage: StageHandler = {
  name: "REPAIRING",
  // Never part of a request's first plan: a failed VERIFYING round adds it.
  applies: () => false,
  async start(ctx) {
    const record = ctx.record;
    const last = record.verification?.rounds.at(-1);
    if (!last) return stop(ctx, "there was no failed verification to repair");
    const pinned = (record.request.metadata?.tests ?? []).map((file) => file.path);
    let failures = failureBrief(last, LIMITS.repairFailuresMaxChars);
    if (last.rejected_changes !== undefined) {
      const note = `You changed pinned test files (${last.rejected_changes.join(", ")}); their original text was kept. Change the program, not the tests.\n\n`;
      failures = (note + failures).slice(0, LIMITS.repairFailuresMaxChars);
    }
    const payload: RepairPayload = {
      prompt: record.request.prompt,
      language: requirementsOf(record).language,
      files: programFiles(ctx).map((file) => ({ path: file.path, content: file.content })),
      pinned,
      failures,
      round: ctx.stage.round ?? 1,
      requirements: requirementsOf(record),
      ...(record.request.metadata?.test_command !== undefined
        ? { test_command: record.request.metadata.test_command }
        : {}),
    };
    const bytes = utf8Length(JSON.stringify(payload));
    if (bytes > JOB_PAYLOAD_MAX_BYTES) {
      return stop(ctx, `the program is too large to send for a repair (${bytes} bytes)`);
    }
    return { kind: "job", job: { kind: "llm.repair", payload, mode: "wait" } };
  },
  async onUnavailable(ctx, error) {
    return failedRepair(ctx, error);
  },
  onEvent(ctx, event) {
    if (event.kind === "token") ctx.appendContent(event.text);
  },
  async onResult(ctx, outcome) {
    if (!outcome.ok) {
      if (outcome.error.retryable) return { kind: "fail", error: outcome.error, retryable: true };
      return failedRepair(ctx, outcome.error);
    }
    const result = GenerateResult.safeParse(outcome.result);
    const content = ctx.content();
    if (!result.success || result.data.chars !== content.length) {
      // A torn or unreadable answer is never laid over the program: the round runs again.
      return {
        kind: "fail",
        error: {
          code: "agent_error",
          message: `llm.repair streamed ${content.length} characters but its result does not match`,
        },
        retryable: true,
      };
    }
    const requirements = requirementsOf(ctx.record);
    const answer = content.trim() === "" ? [] : splitFiles(content, requirements.entry_file, requirements.language);
    const merged = mergeProgram(programFiles(ctx), answer, ctx.record.request.metadata?.tests ?? []);
    ctx.setProgram(merged.files, renderProgram(merged.files));
    return {
      kind: "complete",
      patch: { rejected_changes: merged.rejected },
      next: { stage: "VERIFYING", round: ctx.stage.round ?? 1 },
    };
  },
};
