/**
 * Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with
 * the bytes a `whsec_` secret holds in base64.
 */
const encoder = new TextEncoder();

export const SECRET_PREFIX = "whsec_";

/** The secret's key bytes, or null when it is not a `whsec_` secret of at least 24 bytes. */
export function secretBytes(secret: string): Uint8Array | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  let binary: string;
  try {
    binary = atob(encoded);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return bytes.length >= 24 ? bytes : null;
}

export async function signWebhook(secret: string, id: string, timestampS: number, body: string): Promise<string> {
  const key = secretBytes(secret);
  if (key === null) throw new Error("not a whsec_ secret of at least 24 bytes");
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", hmac, encoder.encode(`${id}.${timestampS}.${body}`));
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}
