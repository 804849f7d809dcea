/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): secrets are `whsec_` + base64 of
 * the key bytes; a delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">`, keyed with the
 * decoded bytes (not the text of the secret). Pure: Web Crypto only, no I/O.
 * @module
 */

export const SECRET_PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A new secret: 32 random bytes (the spec asks for 24 to 64). */
export function newSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The key bytes of a `whsec_` secret, or undefined when it is not one. */
export function secretBytes(secret: string): Uint8Array<ArrayBuffer> | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  try {
    const binary = atob(secret.slice(SECRET_PREFIX.length));
    const bytes = new Uint8Array(new ArrayBuffer(binary.length));
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** The `webhook-signature` value for one delivery attempt; undefined for a malformed secret. */
export async function signature(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string | undefined> {
  const bytes = secretBytes(secret);
  if (!bytes || bytes.length === 0) return undefined;
  const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return "v1," + toBase64(new Uint8Array(mac));
}

/** The three headers of a delivery attempt (the timestamp is the attempt's, so each retry is signed anew). */
export async function webhookHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string> | undefined> {
  const sig = await signature(secret, id, timestamp, body);
  if (sig === undefined) return undefined;
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": sig };
}
