/**
 * Signed change-stream tokens: the SSE URL handed out in bulk answers carries
 * `<environment>.<kind>.<expiry>.<HMAC-SHA256 base64url>`, so the stream route needs no SDK key
 * (EventSource cannot send headers) and no storage read. The HMAC key is SSE_SECRET, else
 * ADMIN_TOKEN; with neither, no stream is offered and clients poll.
 *
 * Expiry is rounded up to whole hours (valid for 1 to 2 h): every bulk answer in the same hour
 * gets the same URL, so one signature per isolate per hour is computed, not one per request.
 * Expiry applies to connecting; an open stream is not cut when its token expires.
 * @module
 */
import type { KeyKind } from "../core/kv-contract";

const HOUR_MS = 3_600_000;

export interface StreamClaims {
  environment: string;
  kind: KeyKind;
  /** Unix milliseconds. */
  expiresAt: number;
}

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export async function signStreamToken(secret: string, claims: StreamClaims): Promise<string> {
  const payload = `${claims.environment}.${claims.kind}.${claims.expiresAt}`;
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(payload));
  return `${payload}.${toBase64Url(sig)}`;
}

export type TokenCheck = { ok: true; claims: StreamClaims } | { ok: false; detail: string };

export async function verifyStreamToken(secret: string, token: string | null | undefined, now = Date.now()): Promise<TokenCheck> {
  if (!token || token.length > 512) return { ok: false, detail: "missing stream token" };
  const parts = token.split(".");
  if (parts.length !== 4) return { ok: false, detail: "malformed stream token" };
  const [environment, kind, exp, sig] = parts;
  const signature = fromBase64Url(sig);
  if (!signature || (kind !== "client" && kind !== "server") || !/^\d{1,15}$/.test(exp)) return { ok: false, detail: "malformed stream token" };
  // crypto.subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, new TextEncoder().encode(`${environment}.${kind}.${exp}`));
  if (!valid) return { ok: false, detail: "invalid stream token" };
  const expiresAt = Number(exp);
  if (expiresAt <= now) return { ok: false, detail: "expired stream token" };
  return { ok: true, claims: { environment, kind, expiresAt } };
}

const issued = new Map<string, { token: string; expiresAt: number }>();

/** The token for (environment, kind) this hour, signed once per isolate per hour. */
export async function currentStreamToken(secret: string, environment: string, kind: KeyKind, now = Date.now()): Promise<string> {
  const id = `${secret}\u0000${kind}:${environment}`;
  const hit = issued.get(id);
  if (hit && hit.expiresAt - now > HOUR_MS) return hit.token;
  const expiresAt = (Math.floor(now / HOUR_MS) + 2) * HOUR_MS;
  const token = await signStreamToken(secret, { environment, kind, expiresAt });
  if (issued.size > 1000) issued.clear();
  issued.set(id, { token, expiresAt });
  return token;
}

export function streamSecret(env: { SSE_SECRET?: string; ADMIN_TOKEN?: string }): string | undefined {
  return env.SSE_SECRET || env.ADMIN_TOKEN || undefined;
}
