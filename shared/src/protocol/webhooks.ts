import { z } from "zod";
import { ErrorBody } from "../errors.ts";
import { PipelineState } from "./common.ts";

/**
 * Completion webhooks, signed as the Standard Webhooks specification has it: every delivery is a
 * POST of a JSON event with `webhook-id` (the same on each retry), `webhook-timestamp` (seconds)
 * and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the
 * secret, whose `whsec_` form holds its base64 bytes).
 */

export const WEBHOOK_URL_MAX = 2048;

/** Where a pipeline's end is told: http(s), at most 2048 characters, no user or password in it. */
export const WebhookUrl = z
  .string()
  .max(WEBHOOK_URL_MAX, `metadata.webhook is longer than ${WEBHOOK_URL_MAX} characters`)
  .superRefine((raw, ctx) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: "custom", message: "metadata.webhook is not a URL" });
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      ctx.addIssue({ code: "custom", message: `metadata.webhook must be http or https, not ${url.protocol}` });
    }
    if (url.username !== "" || url.password !== "") {
      ctx.addIssue({
        code: "custom",
        message: "metadata.webhook must not hold a user or password: deliveries are signed instead",
      });
    }
  });

export const WebhookEventType = z.enum(["pipeline.completed", "pipeline.failed", "pipeline.cancelled"]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The body of a delivery. */
export const WebhookEvent = z.object({
  type: WebhookEventType,
  /** When the pipeline ended (ISO 8601). */
  timestamp: z.string(),
  data: z.object({
    pipeline_id: z.string(),
    request_id: z.string(),
    state: PipelineState,
    pool: z.string(),
    created_at: z.string(),
    finished_at: z.string(),
    processing_time_ms: z.number().nonnegative(),
    verified: z.boolean(),
    verification: z.enum(["passed", "failed", "skipped"]).nullable(),
    error: ErrorBody.nullable(),
    files: z.number().int().nonnegative(),
    /** The pipeline, its events and its files at the edge that ran it. */
    links: z.object({ self: z.string(), events: z.string(), artifacts: z.string() }),
  }),
});
export type WebhookEvent = z.infer<typeof WebhookEvent>;

/** One try to deliver: when, and what the receiver answered (or why there was no answer). */
export const WebhookAttempt = z.object({
  at: z.string(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().nonnegative(),
});
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

/** A pipeline's webhook as its view shows it (never the secret). */
export const WebhookDelivery = z.object({
  url: z.string(),
  /** `pending` until the pipeline ends and a 2xx arrives (`delivered`) or the retries run out (`failed`). */
  status: z.enum(["pending", "delivered", "failed"]),
  /** The `webhook-id` of the delivery, the same on every attempt; null until the pipeline ends. */
  delivery_id: z.string().nullable(),
  event: WebhookEventType.nullable(),
  attempts: z.array(WebhookAttempt),
  next_attempt_at: z.string().nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
