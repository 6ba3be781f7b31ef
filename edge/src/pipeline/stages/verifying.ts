import type { ErrorBody, VerificationRound, VerifyLanguage, VerifyPayload } from "../../../../shared/src/index.ts";
import { utf8Length, VerifyReport } from "../../../../shared/src/index.ts";
import { JOB_PAYLOAD_MAX_BYTES } from "../../jobs/job.ts";
import { requirementsOf } from "../rules.ts";
import type { StageContext, StageHandler, StageStep } from "../stage.ts";
import { mergeProgram, renderProgram, sameFiles } from "../verification/program.ts";
import { repairsAllowed, skippedVerdict, verdictAfterRound, wantsVerification } from "../verification/verdict.ts";
import { programFiles } from "./program-files.ts";

const VERIFIABLE: Record<string, VerifyLanguage> = {
  python: "python",
  javascript: "javascript",
  typescript: "typescript",
};

function basisOf(ctx: StageContext) {
  const metadata = ctx.record.request.metadata;
  return {
    maxRepairs: repairsAllowed(metadata, ctx.config.ATOMIC_MAX_REPAIRS),
    pinned: (metadata?.tests ?? []).map((file) => file.path),
  };
}

/** Nothing could be verified, and why: the verdict says so and the pipeline goes on to PACKAGING. */
function skipped(ctx: StageContext, reason: string): StageStep {
  ctx.finishContent();
  return { kind: "complete", patch: { verification: skippedVerdict(ctx.record.verification, reason, basisOf(ctx)) } };
}

function unavailable(ctx: StageContext, error: ErrorBody): StageStep {
  return skipped(ctx, `no sandbox could run the tests (${error.code}: ${error.message})`);
}

/**
 * VERIFYING (with `metadata.verify`, or the older `validate: true`): a `sandbox.verify` job runs
 * the program's type check and tests in a host-agent's sandbox. A pass ends the loop verified; a
 * failure asks for a repair while rounds remain (REPAIRING, then VERIFYING again); a failure with
 * no round left, or a run that could not happen, ends it unverified, saying why. Either way the
 * files are packaged: the verdict travels with them.
 */
export const verifyingStage: StageHandler = {
  name: "VERIFYING",
  applies: (request) => wantsVerification(request.metadata),
  async start(ctx) {
    const requirements = requirementsOf(ctx.record);
    let files = programFiles(ctx);
    const patch: { rejected_changes?: string[] } = {};
    if (ctx.program() === null) {
      // The first round settles the program: the generated files with the request's pinned tests.
      const merged = mergeProgram([], files, ctx.record.request.metadata?.tests ?? []);
      ctx.setProgram(merged.files, sameFiles(merged.files, files) ? null : renderProgram(merged.files));
      files = merged.files;
      patch.rejected_changes = merged.rejected;
    }
    const language = VERIFIABLE[requirements.language];
    if (language === undefined) return skipped(ctx, `the sandbox has no test runner for ${requirements.language}`);
    if (files.length === 0) return skipped(ctx, "the output holds no file to test");
    const testCommand = ctx.record.request.metadata?.test_command;
    const payload: VerifyPayload = {
      language,
      files: files.map((file) => ({ path: file.path, content: file.content })),
      ...(testCommand !== undefined ? { test_command: testCommand } : {}),
    };
    const bytes = utf8Length(JSON.stringify(payload));
    if (bytes > JOB_PAYLOAD_MAX_BYTES) {
      return skipped(ctx, `the program is ${bytes} bytes; a verification takes at most ${JOB_PAYLOAD_MAX_BYTES}`);
    }
    return { kind: "job", job: { kind: "sandbox.verify", payload, mode: "wait" }, patch };
  },
  async onUnavailable(ctx, error) {
    return unavailable(ctx, error);
  },
  async onResult(ctx, outcome) {
    if (!outcome.ok) {
      if (outcome.error.retryable && outcome.error.code !== "no_agent")
        return { kind: "fail", error: outcome.error, retryable: true };
      return unavailable(ctx, outcome.error);
    }
    const report = VerifyReport.safeParse(outcome.result);
    if (!report.success) return skipped(ctx, "the sandbox answered a report that does not parse");
    const rejected = ctx.record.rejected_changes;
    const round: VerificationRound = {
      ...report.data,
      round: ctx.stage.round ?? 0,
      ...(rejected.length > 0 ? { rejected_changes: [...rejected] } : {}),
    };
    ctx.emitVerification(round);
    const { verification, repair } = verdictAfterRound(ctx.record.verification, round, basisOf(ctx));
    const patch = { verification, rejected_changes: [] };
    if (repair) return { kind: "complete", patch, next: { stage: "REPAIRING", round: round.round + 1 } };
    ctx.finishContent();
    return { kind: "complete", patch };
  },
};
