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
