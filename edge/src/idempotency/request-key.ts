/**
 * The `Idempotency-Key` of a request, and what makes two requests "the same": pure, so the rules
 * are tested apart from the Durable Object that keeps the keys.
 */

/** The longest key accepted; keys are opaque to the edge, usually a UUID. */
export const IDEMPOTENCY_KEY_MAX = 255;

export type KeyReading = { ok: true; key: string | null } | { ok: false; message: string };

/** The header's key (null when absent), or why it cannot be one: 1-255 visible ASCII characters. */
export function readIdempotencyKey(header: string | undefined): KeyReading {
  if (header === undefined) return { ok: true, key: null };
  if (header.length === 0 || header.length > IDEMPOTENCY_KEY_MAX) {
    return { ok: false, message: `Idempotency-Key must be 1-${IDEMPOTENCY_KEY_MAX} characters` };
  }
  if (!/^[\x21-\x7e]+$/.test(header)) {
    return { ok: false, message: "Idempotency-Key must be visible ASCII characters (no spaces or control characters)" };
  }
  return { ok: true, key: header };
}

/**
 * A parsed body as JSON with every object's keys sorted, so a retry that serialises the same body
 * with its keys in another order is still the same request.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, sorted(inner)]),
    );
  }
  return value;
}

const encoder = new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What identifies the request a key was first used with: the route, its query and its body. */
export function requestFingerprint(route: string, query: string, body: unknown): Promise<string> {
  return sha256Hex(`${route}\n${query}\n${canonicalJson(body)}`);
}

/**
 * The name of the object that keeps one key: keys are scoped to the route and to the API key
 * that sent them (an open edge's callers share one scope), so two tenants never collide.
 */
export function keyObjectName(route: string, owner: string | null, key: string): Promise<string> {
  return sha256Hex(`idempotency\n${route}\n${owner ?? "open"}\n${key}`);
}
