/**
 * SDK key authentication for the edge: the presented key is hashed (SHA-256 hex) and looked up in
 * KV as a {@link KeyRecord}. Results, positive and negative, are remembered in isolate memory for
 * `ttlMs` (the caller passes the snapshot refresh interval, SNAPSHOT_REFRESH_SECONDS: 0.25 s
 * locally, so a revocation or a new key is seen within the 1 s the contract promises; deployments
 * may raise it to a few seconds). A busy key then costs one KV read per isolate per interval, and a
 * flood of one unknown key cannot become a flood of KV reads.
 *
 * Revocation bound when deployed: ttlMs (isolate memory) + the KV edge cache (`cacheTtl`
 * {@link KEY_KV_CACHE_TTL} s, the minimum KV accepts) + KV propagation (up to about 60 s).
 * @module
 */
import { sha256Hex } from "../core/sha256";
import { kvKey, type KeyRecord } from "../core/kv-contract";

/** Default for how long an isolate trusts a key lookup (either answer). */
export const DEFAULT_KEY_CACHE_MS = 250;
/** KV's own edge cache for key records: 30 s is the smallest `cacheTtl` KV accepts. */
export const KEY_KV_CACHE_TTL = 30;
/** Bound on remembered lookups per isolate (oldest dropped first). */
const KEY_CACHE_MAX = 10_000;

export type KvReader = Pick<KVNamespace, "get">;

export type AuthResult =
  | { ok: true; key: KeyRecord }
  | { ok: false; status: 401 | 503; detail: string };

interface CachedLookup {
  record: KeyRecord | null;
  until: number;
}

const lookups = new Map<string, CachedLookup>();

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>` (Bearer wins when both are sent). */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const apiKey = headers.get("x-api-key")?.trim();
  return apiKey ? apiKey : null;
}


function isKeyRecord(v: unknown): v is KeyRecord {
  if (!v || typeof v !== "object") return false;
  const r = v as Record<string, unknown>;
  return typeof r.id === "string" && (r.kind === "client" || r.kind === "server") &&
    typeof r.environment === "string" && typeof r.revoked === "boolean";
}

const inflight = new Map<string, Promise<KeyRecord | null | Error>>();

/** One KV read per key at a time: concurrent requests after expiry share it. */
function fetchRecord(key: string, kv: KvReader): Promise<KeyRecord | null | Error> {
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      try {
        const raw = await kv.get(kvKey.sdkKey(await sha256Hex(key)), { type: "json", cacheTtl: KEY_KV_CACHE_TTL });
        return isKeyRecord(raw) ? raw : null;
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

/**
 * Resolves the request's SDK key. Through a KV failure a remembered answer keeps working; with
 * nothing remembered the answer is 503 (the key may well be valid), never a 401.
 */
export async function authenticate(headers: Headers, kv: KvReader, ttlMs = DEFAULT_KEY_CACHE_MS, now = Date.now()): Promise<AuthResult> {
  const key = presentedKey(headers);
  if (!key) return { ok: false, status: 401, detail: "missing SDK key: send Authorization: Bearer <key> or X-API-Key" };
  if (key.length > 512) return { ok: false, status: 401, detail: "unknown SDK key" };
  // Keyed by the presented key itself (it is in the request anyway): a hit skips the digest.
  const cached = lookups.get(key);
  let record: KeyRecord | null;
  if (cached && cached.until > now) {
    record = cached.record;
  } else {
    const fetched = await fetchRecord(key, kv);
    if (fetched instanceof Error) {
      console.error("sdk key lookup failed", fetched.message);
      if (!cached) return { ok: false, status: 503, detail: "SDK key could not be verified: flag storage unavailable" };
      record = cached.record;
    } else {
      record = fetched;
    }
    if (lookups.size >= KEY_CACHE_MAX) lookups.delete(lookups.keys().next().value as string);
    lookups.delete(key);
    lookups.set(key, { record, until: now + ttlMs });
  }
  if (!record) return { ok: false, status: 401, detail: "unknown SDK key" };
  if (record.revoked) return { ok: false, status: 401, detail: "revoked SDK key" };
  return { ok: true, key: record };
}
