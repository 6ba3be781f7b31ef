import { z } from "zod";
import { WebhookUrl } from "../../../shared/src/index.ts";
import { apiKeys, ownerOf } from "../access/api-keys.ts";
import { secretBytes } from "./signature.ts";

/** A signing secret in the Standard Webhooks form: `whsec_` and at least 24 bytes in base64. */
export const WebhookSecret = z
  .string()
  .refine((secret) => secretBytes(secret) !== null, "must be whsec_ followed by at least 24 bytes in base64");

/**
 * `ATOMIC_KEY_WEBHOOKS`: JSON from an API key to the webhook of its pipelines and, optionally, a
 * secret of its own: `{"<api key>": {"url": "https://...", "secret": "whsec_..."}}`. A secret
 * setting, since it names the keys.
 */
export const KeyWebhooks = z.record(
  z.string().min(1),
  z.object({ url: WebhookUrl, secret: WebhookSecret.optional() }).strict(),
);
export type KeyWebhooks = z.infer<typeof KeyWebhooks>;

/** Parses ATOMIC_KEY_WEBHOOKS, or says what is wrong with it. */
export function parseKeyWebhooks(raw: string): { ok: true; value: KeyWebhooks } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, message: "is not JSON" };
  }
  const parsed = KeyWebhooks.safeParse(json);
  if (!parsed.success) return { ok: false, message: parsed.error.issues[0]?.message ?? "is invalid" };
  return { ok: true, value: parsed.data };
}

interface WebhookConfig {
  ATOMIC_WEBHOOK_SECRET?: string | undefined;
  ATOMIC_KEY_WEBHOOKS?: string | undefined;
  ATOMIC_API_KEYS?: string | undefined;
  ATOMIC_OPERATOR_KEYS?: string | undefined;
}

/** Per-isolate cache of the key webhooks by owner id (hashing every key per request would cost). */
let byOwnerCache: { raw: string; byOwner: Map<string, { url: string; secret: string | null }> } | null = null;

async function keyWebhooksByOwner(config: WebhookConfig): Promise<Map<string, { url: string; secret: string | null }>> {
  const raw = config.ATOMIC_KEY_WEBHOOKS ?? "";
  if (byOwnerCache?.raw === raw) return byOwnerCache.byOwner;
  const byOwner = new Map<string, { url: string; secret: string | null }>();
  const parsed = raw.trim() === "" ? null : parseKeyWebhooks(raw);
  if (parsed?.ok) {
    const known = new Set([...apiKeys(config.ATOMIC_API_KEYS), ...apiKeys(config.ATOMIC_OPERATOR_KEYS)]);
    for (const [key, hook] of Object.entries(parsed.value)) {
      if (known.has(key)) byOwner.set(await ownerOf(key), { url: hook.url, secret: hook.secret ?? null });
    }
  }
  byOwnerCache = { raw, byOwner };
  return byOwner;
}

/** Where a pipeline's end is told and with which secret. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

/**
 * The webhook of a new pipeline: the request's `metadata.webhook`, else its API key's; signed with
 * its key's secret, else ATOMIC_WEBHOOK_SECRET. A URL with no secret to sign it is refused.
 */
export async function webhookTarget(
  config: WebhookConfig,
  requested: string | undefined,
  owner: string | null,
): Promise<{ ok: true; target: WebhookTarget | null } | { ok: false; message: string }> {
  const ofKey = owner === null ? undefined : (await keyWebhooksByOwner(config)).get(owner);
  const url = requested ?? ofKey?.url;
  if (url === undefined) return { ok: true, target: null };
  const secret = ofKey?.secret ?? config.ATOMIC_WEBHOOK_SECRET ?? null;
  if (secret === null) {
    return {
      ok: false,
      message:
        "metadata.webhook needs a signing secret, and this edge has none: its operator sets ATOMIC_WEBHOOK_SECRET",
    };
  }
  return { ok: true, target: { url, secret } };
}

/** The secret a pipeline's deliveries are signed with now (a rotated secret applies to retries). */
export async function webhookSecret(config: WebhookConfig, owner: string | null): Promise<string | null> {
  const ofKey = owner === null ? undefined : (await keyWebhooksByOwner(config)).get(owner);
  return ofKey?.secret ?? config.ATOMIC_WEBHOOK_SECRET ?? null;
}
