import { z } from "zod";

/**
 * The closed set of error codes the product answers with. Callers branch on these, never on
 * message text. The HTTP status each maps to lives in `ERROR_STATUS`.
 */
export const ErrorCode = z.enum([
  "invalid_json",
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "unsupported_media_type",
  "upgrade_required",
  "queue_full",
  "rate_limited",
  "conflict",
  "idempotency_key_reused",
  "no_agent",
  "agent_lost",
  "agent_error",
  "llm_error",
  "llm_unavailable",
  "sandbox_error",
  "sandbox_unavailable",
  "export_error",
  "timeout",
  "cancelled",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  queue_full: 429,
  rate_limited: 429,
  conflict: 409,
  idempotency_key_reused: 422,
  no_agent: 503,
  agent_lost: 503,
  agent_error: 502,
  llm_error: 502,
  llm_unavailable: 503,
  sandbox_error: 502,
  sandbox_unavailable: 503,
  export_error: 502,
  timeout: 504,
  cancelled: 409,
  internal: 500,
};

/** `{code, message}`: the error of a failed job, stage or request. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The body of every error response at the edge. */
export const ErrorResponse = z.object({
  success: z.literal(false),
  error: ErrorBody,
  request_id: z.string(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
