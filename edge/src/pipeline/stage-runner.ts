import type { GenerateRequest, StageName } from "../../../shared/src/index.ts";
import type { EdgeConfig } from "../config.ts";
import type { EdgeLogger } from "../log.ts";
import type { PipelineEffect } from "./effects.ts";
import type { PipelineMachine } from "./machine.ts";
import type { StageContext, StageHandler, StageStep } from "./stage.ts";
import { STAGES } from "./stages/index.ts";

const STAGE_BY_NAME = new Map<StageName, StageHandler>(STAGES.map((stage) => [stage.name, stage]));

/** The stages a request runs, in order. */
export function stagesFor(request: GenerateRequest): StageName[] {
  return STAGES.filter((stage) => stage.applies(request)).map((stage) => stage.name);
}

/** How long one attempt of a stage may take. */
export function stageTimeoutMs(stage: StageName, config: EdgeConfig): number {
  return STAGE_BY_NAME.get(stage)?.timeoutMs?.(config) ?? config.ATOMIC_STAGE_TIMEOUT_MS;
}

/** Hands a job event of the stage to its handler (which streams what it carries). */
export function stageEvent(effect: Extract<PipelineEffect, { type: "stage-event" }>, ctx: StageContext): void {
  STAGE_BY_NAME.get(effect.stage)?.onEvent?.(ctx, effect.event);
}

type HandlerEffect = Extract<PipelineEffect, { type: "start-stage" | "stage-result" | "stage-unplaced" }>;

/**
 * Runs the stage handler step an effect asks for and returns what the machine makes of its
 * answer. A handler that throws is a retryable internal failure of its stage.
 */
export async function runStage(
  machine: PipelineMachine,
  effect: HandlerEffect,
  ctx: StageContext,
  log: EdgeLogger,
): Promise<PipelineEffect[]> {
  const handler = STAGE_BY_NAME.get(effect.stage);
  if (!handler) return [];
  try {
    return machine.stepped(effect.epoch, await call(handler, effect, ctx), Date.now());
  } catch (error) {
    log.error("stage failed unexpectedly", { stage: effect.stage, error });
    return machine.stageThrew(effect.epoch, String(error), Date.now());
  }
}

async function call(handler: StageHandler, effect: HandlerEffect, ctx: StageContext): Promise<StageStep> {
  switch (effect.type) {
    case "start-stage":
      return handler.start(ctx);
    case "stage-result":
      return handler.onResult(ctx, effect.outcome);
    case "stage-unplaced":
      return handler.onUnavailable
        ? handler.onUnavailable(ctx, effect.error)
        : { kind: "fail", error: effect.error, retryable: false };
  }
}
