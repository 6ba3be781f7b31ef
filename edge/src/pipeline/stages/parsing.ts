import { ParseResult } from "../../../../shared/src/index.ts";
import { requirementsByRules } from "../rules.ts";
import type { StageContext, StageHandler, StageStep } from "../stage.ts";

function byRules(ctx: StageContext): StageStep {
  const { prompt, metadata = {} } = ctx.record.request;
  return { kind: "complete", patch: { requirements: requirementsByRules(prompt, metadata) } };
}

/**
 * PARSING: prompt + metadata → requirements. Asks a host-agent's LLM (`llm.parse`) when one is
 * free right now; the edge's deterministic rules otherwise, and whenever the agent's answer fails.
 */
export const parsingStage: StageHandler = {
  name: "PARSING",
  applies: () => true,
  timeoutMs: (config) => Math.min(config.ATOMIC_STAGE_TIMEOUT_MS, 30_000),
  async start(ctx) {
    const { prompt, metadata = {} } = ctx.record.request;
    return { kind: "job", job: { kind: "llm.parse", payload: { prompt, metadata }, mode: "if-available" } };
  },
  async onUnavailable(ctx) {
    return byRules(ctx);
  },
  async onResult(ctx, outcome) {
    if (!outcome.ok) {
      ctx.log.info("llm.parse failed; using rules", { error: outcome.error });
      return byRules(ctx);
    }
    const parsed = ParseResult.safeParse(outcome.result);
    if (!parsed.success) {
      ctx.log.warn("llm.parse answered an invalid result; using rules", { issues: parsed.error.issues.length });
      return byRules(ctx);
    }
    const { metadata = {} } = ctx.record.request;
    // What the user asked for explicitly wins over what the model inferred.
    const rules = requirementsByRules(ctx.record.request.prompt, metadata);
    return {
      kind: "complete",
      patch: {
        requirements: {
          ...parsed.data,
          language: typeof metadata.language === "string" ? rules.language : parsed.data.language,
          framework: typeof metadata.framework === "string" ? rules.framework : parsed.data.framework,
          source: "agent",
        },
      },
    };
  },
};
