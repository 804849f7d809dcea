/**
 * Signed change-stream tokens: the SSE URL handed out in bulk answers carries
 * `<environment>.<kind>.<key id>.<key digest>.<expiry>.<HMAC-SHA256 base64url>`, so the stream
 * route needs no SDK key header (EventSource cannot send headers).
 *
 * The HMAC key is STREAM_SECRET (SSE_SECRET is read as an older name for it), a secret of its own:
 * never ADMIN_TOKEN or anything derived from it, because every bulk answer (client keys included)
 * carries a token, and a token keyed with the admin token would let anyone test guesses of the
 * admin token offline. With no stream secret, no stream is offered and clients poll.
 *
 * A token is bound to the SDK key it was issued to: the key's id and the SHA-256 hex of the key
 * (what KV stores the key record under, never the key itself), so the stream route re-reads the
 * key record through the edge key cache when the stream connects and while it is open, and a
 * revoked key (or a deleted environment, which revokes its keys) loses its streams.
 *
 * Expiry is rounded up to whole hours (valid for 1 to 2 h): every bulk answer of one key in the
 * same hour gets the same URL, so one signature per key per isolate per hour is computed. An open
 * stream ends when its token expires; the provider's next bulk answer carries a fresh URL.
 * @module
 */
import type { KeyKind } from "../core/wire/kv-layout";

const HOUR_MS = 3_600_000;
/** Longer than any well-formed token (environment 63, key id, 64-hex digest, expiry, signature). */
const MAX_TOKEN_CHARS = 512;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DIGEST = /^[0-9a-f]{64}$/;

export interface StreamClaims {
  environment: string;
  kind: KeyKind;
  /** The SDK key's id (KeyRecord.id). */
  keyId: string;
  /** SHA-256 hex of the SDK key: its KV record's name. */
  keyDigest: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

/**
 * Imported keys by secret. The key, not the import's promise, is kept: a promise started by one
 * request and awaited by another gets the second cancelled as hung if the first ends meanwhile.
 */
const keys = new Map<string, CryptoKey>();
async function hmacKey(secret: string): Promise<CryptoKey> {
  const kept = keys.get(secret);
  if (kept) return kept;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  keys.set(secret, key);
  return key;
}

function toBase64Url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function payloadOf(c: StreamClaims): string {
  return `${c.environment}.${c.kind}.${c.keyId}.${c.keyDigest}.${c.expiresAt}`;
}

export async function signStreamToken(secret: string, claims: StreamClaims): Promise<string> {
  const payload = payloadOf(claims);
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(payload));
  return `${payload}.${toBase64Url(sig)}`;
}

export type TokenCheck = { ok: true; claims: StreamClaims } | { ok: false; detail: string };

export async function verifyStreamToken(
  secret: string,
  token: string | null | undefined,
  now = Date.now(),
): Promise<TokenCheck> {
  if (!token) return { ok: false, detail: "missing stream token" };
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, detail: "malformed stream token" };
  const parts = token.split(".");
  if (parts.length !== 6) return { ok: false, detail: "malformed stream token" };
  const [environment, kind, keyId, keyDigest, exp, sig] = parts;
  const signature = fromBase64Url(sig);
  if (
    !signature ||
    (kind !== "client" && kind !== "server") ||
    !KEY_ID.test(keyId) ||
    !DIGEST.test(keyDigest) ||
    !/^\d{1,15}$/.test(exp)
  ) {
    return { ok: false, detail: "malformed stream token" };
  }
  const claims: StreamClaims = { environment, kind, keyId, keyDigest, expiresAt: Number(exp) };
  // crypto.subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signature,
    new TextEncoder().encode(payloadOf(claims)),
  );
  if (!valid) return { ok: false, detail: "invalid stream token" };
  if (claims.expiresAt <= now) return { ok: false, detail: "expired stream token" };
  return { ok: true, claims };
}

const issued = new Map<string, { token: string; expiresAt: number }>();
const MAX_ISSUED = 1000;

/** The token for this key this hour, signed once per isolate per hour. */
export async function currentStreamToken(
  secret: string,
  claims: Omit<StreamClaims, "expiresAt">,
  now = Date.now(),
): Promise<string> {
  const id = `${secret}\u0000${payloadOf({ ...claims, expiresAt: 0 })}`;
  const hit = issued.get(id);
  if (hit && hit.expiresAt - now > HOUR_MS) return hit.token;
  const expiresAt = (Math.floor(now / HOUR_MS) + 2) * HOUR_MS;
  const token = await signStreamToken(secret, { ...claims, expiresAt });
  if (issued.size >= MAX_ISSUED) issued.delete(issued.keys().next().value as string);
  issued.set(id, { token, expiresAt });
  return token;
}

/** The stream signing secret, or undefined (no stream offered). Never falls back to ADMIN_TOKEN. */
export function streamSecret(env: { STREAM_SECRET?: string; SSE_SECRET?: string }): string | undefined {
  return env.STREAM_SECRET || env.SSE_SECRET || undefined;
}
