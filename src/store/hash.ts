/**
 * Secrets the store hands out once (SDK keys, admin tokens) and the SHA-256 digests it keeps
 * instead of them.
 * @module
 */

/** Lowercase hex SHA-256 of a UTF-8 string: what is stored and what KV key records are keyed by. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A new secret: a recognisable prefix (`efc_`, `efs_`, `efa_`) and 32 random bytes, base64url. */
export function randomSecret(prefix: string): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** A short random id (not secret) for keys and tokens. */
export function randomId(prefix: string): string {
  return prefix + base64url(crypto.getRandomValues(new Uint8Array(9)));
}

/** How many characters of a secret may be shown back: the prefix plus 6 characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, secret.indexOf("_") + 7);
}
