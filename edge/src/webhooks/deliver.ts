import type { WebhookAttempt } from "../../../shared/src/index.ts";
import { signWebhook } from "./signature.ts";

/** What a receiver says in an error is kept this long at most (it shows in the pipeline's view). */
const ERROR_TEXT_MAX = 200;

/**
 * One delivery attempt: a signed POST of `body`, answered within `timeoutMs` or taken as failed.
 * A 2xx is a delivery; anything else (another status, a refused connection, a timeout) is
 * recorded and retried by the schedule.
 */
export async function deliverWebhook(input: {
  url: string;
  secret: string;
  id: string;
  body: string;
  timeoutMs: number;
}): Promise<WebhookAttempt> {
  const started = Date.now();
  const timestamp = Math.floor(started / 1000);
  const attempt = (status: number | null, error: string | null): WebhookAttempt => ({
    at: new Date(started).toISOString(),
    status,
    error: error === null ? null : error.slice(0, ERROR_TEXT_MAX),
    duration_ms: Date.now() - started,
  });
  try {
    const response = await fetch(input.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "atomic-orchestrator-webhooks",
        "webhook-id": input.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": await signWebhook(input.secret, input.id, timestamp, input.body),
      },
      body: input.body,
      redirect: "manual",
      signal: AbortSignal.timeout(input.timeoutMs),
    });
    // The receiver's body is not read beyond what the runtime buffers: a delivery needs only the status.
    await response.body?.cancel();
    return attempt(response.status, response.ok ? null : `the receiver answered ${response.status}`);
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return attempt(
      null,
      timedOut ? `no answer within ${input.timeoutMs} ms` : `could not reach the receiver: ${String(error)}`,
    );
  }
}
