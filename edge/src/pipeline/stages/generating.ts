import { GenerateResult } from "../../../../shared/src/index.ts";
import { requirementsOf } from "../rules.ts";
import type { StageHandler } from "../stage.ts";
import { wantsVerification } from "../verification/verdict.ts";

/** GENERATING: an `llm.generate` job on a host-agent, its tokens streamed to every client. */
export const generatingStage: StageHandler = {
  name: "GENERATING",
  applies: () => true,
  async start(ctx) {
    const { prompt, metadata = {} } = ctx.record.request;
    // The model writes the program's tests too (the provider's prompt says how); `metadata.tests`
    // carries the request's pinned ones.
    const requirements = requirementsOf(ctx.record);
    return { kind: "job", job: { kind: "llm.generate", payload: { prompt, requirements, metadata }, mode: "wait" } };
  },
  onEvent(ctx, event) {
    if (event.kind === "token") ctx.appendContent(event.text);
  },
  async onResult(ctx, outcome) {
    if (!outcome.ok) return { kind: "fail", error: outcome.error, retryable: outcome.error.retryable };
    const result = GenerateResult.safeParse(outcome.result);
    if (!result.success) {
      return {
        kind: "fail",
        error: { code: "agent_error", message: "llm.generate answered a result without chars/finish_reason/provider" },
        retryable: true,
      };
    }
    const content = ctx.content();
    if (result.data.chars !== content.length) {
      // The agent says it streamed more (or less) than arrived: never package a torn program.
      return {
        kind: "fail",
        error: {
          code: "agent_error",
          message: `llm.generate streamed ${content.length} characters but reported ${result.data.chars}`,
        },
        retryable: true,
      };
    }
    // A verified pipeline's closing chunk comes when its last round is done: a repair may replace files.
    if (!wantsVerification(ctx.record.request.metadata)) ctx.finishContent();
    return { kind: "complete", patch: { content_chars: content.length } };
  },
};
