import type { PipelineView, StageTiming } from "../../../shared/src/index.ts";
import { FINAL_STATES } from "../../../shared/src/index.ts";
import { pipelineLinks } from "./links.ts";
import type { PipelineRecord, StageRecord } from "./record.ts";

function timingOf(stage: StageRecord): StageTiming {
  return {
    stage: stage.stage,
    status: stage.status === "pending" ? "skipped" : stage.status,
    attempts: stage.attempts,
    started_at: stage.started_at === null ? null : new Date(stage.started_at).toISOString(),
    duration_ms: stage.duration_ms,
    agent_id: stage.agent_id,
    ...(stage.round !== undefined ? { round: stage.round } : {}),
  };
}

/** Each stage's timing as clients see it; stages a finished pipeline never reached are left out. */
export function stageTimings(record: PipelineRecord): StageTiming[] {
  const final = FINAL_STATES.has(record.state);
  return record.stages.filter((s) => s.status !== "pending" || !final).map(timingOf);
}

/** The public view of a pipeline record (`GET /api/pipelines/:id`). */
export function viewOf(record: PipelineRecord, lastSeq: number): PipelineView {
  const done = record.stages.filter((s) => s.status === "completed" || s.status === "skipped").length;
  const final = FINAL_STATES.has(record.state);
  const current = record.stages[record.stage_index];
  return {
    pipeline_id: record.id,
    request_id: record.request_id,
    state: record.state,
    stage: !final && current ? current.stage : null,
    progress: record.state === "COMPLETED" ? 1 : record.stages.length === 0 ? 0 : done / record.stages.length,
    priority: record.priority,
    pool: record.pool,
    created_at: new Date(record.created_at).toISOString(),
    updated_at: new Date(record.updated_at).toISOString(),
    finished_at: record.finished_at === null ? null : new Date(record.finished_at).toISOString(),
    processing_time_ms: record.finished_at === null ? null : record.finished_at - record.created_at,
    stages: stageTimings(record),
    last_seq: lastSeq,
    requirements: record.requirements,
    content_chars: record.content_chars,
    artifacts: record.artifacts,
    verified: record.verification?.verified ?? false,
    verification: record.verification,
    export: record.export,
    error: record.error,
    links: pipelineLinks(record.id),
    webhook:
      record.webhook === null
        ? null
        : {
            url: record.webhook.url,
            status: record.webhook.status,
            delivery_id: record.webhook.delivery_id,
            event: record.webhook.event,
            attempts: record.webhook.attempts,
            next_attempt_at:
              record.webhook.status === "pending" && record.webhook.next_at !== null
                ? new Date(record.webhook.next_at).toISOString()
                : null,
          },
  };
}
