/**
 * Secrets the store hands out once (SDK keys, admin tokens) and the SHA-256 digests it keeps
 * instead of them.
 * @module
 */

/** What is stored instead of a secret, and what KV key records are keyed by. */
export { sha256Hex } from "../core/sha256";

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
