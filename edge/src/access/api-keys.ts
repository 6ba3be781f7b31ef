const encoder = new TextEncoder();

/** A key's id: what the rate limiter and a pipeline's owner are named by, never the key itself. */
export async function apiKeyId(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`atomic-api-key:${key}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The owner a key's pipelines carry: its id cut to 32 characters. */
export async function ownerOf(key: string): Promise<string> {
  return (await apiKeyId(key)).slice(0, 32);
}

/** The keys of ATOMIC_API_KEYS (comma or newline separated); empty when auth is off. */
export function apiKeys(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(/[,\n]/)
    .map((key) => key.trim())
    .filter(Boolean);
}

/** Whether this edge asks for API keys (`GET /health` says so as `auth`). */
export function authMode(config: {
  ATOMIC_API_KEYS?: string | undefined;
  ATOMIC_OPERATOR_KEYS?: string | undefined;
}): "open" | "api_keys" {
  return apiKeys(config.ATOMIC_API_KEYS).length + apiKeys(config.ATOMIC_OPERATOR_KEYS).length > 0 ? "api_keys" : "open";
}
