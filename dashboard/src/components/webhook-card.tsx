import { useEffect, useState } from "preact/hooks";
import type { WebhookDelivery } from "../../../shared/src/protocol/webhooks.ts";
import { isAbort } from "../api/client.ts";
import { useApp } from "../context.ts";
import { duration, instant } from "../format.ts";
import { ScrollTable } from "./scroll-table.tsx";

/** How often a pending delivery is looked at again: attempts are seconds to hours apart. */
const RECHECK_MS = 5_000;

/** The pipeline's completion webhook and each delivery attempt, re-read while it is still pending. */
export function WebhookCard({ id, initial }: { id: string; initial: WebhookDelivery }) {
  const { client } = useApp();
  const [webhook, setWebhook] = useState(initial);
  useEffect(() => setWebhook(initial), [initial]);
  useEffect(() => {
    if (webhook.status !== "pending") return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      client.pipelines
        .get(id, { signal: abort.signal })
        .then((view) => {
          if (view.webhook !== null) setWebhook(view.webhook);
        })
        .catch((error: unknown) => {
          if (!isAbort(error)) setWebhook({ ...webhook });
        });
    }, RECHECK_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, id, webhook]);
  return (
    <section aria-labelledby="webhook-heading" class="card">
      <h2 id="webhook-heading">Webhook</h2>
      <p class="break">
        <code>{webhook.url}</code> · {webhook.status}
        {webhook.event !== null ? ` · ${webhook.event}` : ""}
        {webhook.next_attempt_at !== null ? ` · next attempt ${instant(webhook.next_attempt_at)}` : ""}
      </p>
      {webhook.attempts.length === 0 ? (
        <p class="muted">No attempt yet: the first comes when the pipeline ends.</p>
      ) : (
        <ScrollTable label="Webhook attempts" columns={["Attempt", "At", "Answer", "Took"]}>
          {webhook.attempts.map((attempt, index) => (
            <tr key={index}>
              <td>{index + 1}</td>
              <td>{instant(attempt.at)}</td>
              <td>{attempt.status !== null ? String(attempt.status) : (attempt.error ?? "no answer")}</td>
              <td>{duration(attempt.duration_ms)}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </section>
  );
}
