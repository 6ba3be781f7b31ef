import type { WebhookEvent, WebhookEventType } from "../../../shared/src/index.ts";
import { pipelineLinks } from "../pipeline/links.ts";
import type { PipelineRecord } from "../pipeline/record.ts";

/** The event a finished pipeline's state is told as. */
export function webhookEventType(state: PipelineRecord["state"]): WebhookEventType | null {
  if (state === "COMPLETED") return "pipeline.completed";
  if (state === "FAILED") return "pipeline.failed";
  if (state === "CANCELLED") return "pipeline.cancelled";
  return null;
}

/**
 * The body of a finished pipeline's delivery: a summary and links (absolute when the edge knows
 * the address it was asked at, or ATOMIC_PUBLIC_URL), never the generated text itself.
 */
export function webhookEvent(record: PipelineRecord, origin: string | null): WebhookEvent | null {
  const type = webhookEventType(record.state);
  if (type === null || record.finished_at === null) return null;
  const links = pipelineLinks(record.id);
  const at = (path: string) => (origin === null ? path : new URL(path, origin).toString());
  return {
    type,
    timestamp: new Date(record.finished_at).toISOString(),
    data: {
      pipeline_id: record.id,
      request_id: record.request_id,
      state: record.state,
      pool: record.pool,
      created_at: new Date(record.created_at).toISOString(),
      finished_at: new Date(record.finished_at).toISOString(),
      processing_time_ms: record.finished_at - record.created_at,
      verified: record.verification?.verified ?? false,
      verification: record.verification?.status ?? null,
      error: record.error,
      files: record.artifacts?.files.length ?? 0,
      links: { self: at(links.self), events: at(links.events_sse), artifacts: at(links.artifacts) },
    },
  };
}
