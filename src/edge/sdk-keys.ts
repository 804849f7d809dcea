/**
 * SDK key authentication for the edge: the presented key is hashed (SHA-256 hex) and looked up in
 * KV as a {@link KeyRecord}. Answers are remembered in isolate memory for `ttlMs` (the caller
 * passes the snapshot refresh interval, SNAPSHOT_REFRESH_SECONDS: 0.25 s locally, so a revocation
 * or a new key is seen within the 1 s the contract promises; deployments may raise it to a few
 * seconds). A busy key then costs one KV read per isolate per interval.
 *
 * Made-up keys are the cheap attack here (keys are public, so anyone may try any string):
 * - a key that does not have the minted format (`efc_`/`efs_` + 43 base64url characters) is
 *   refused before any digest or KV read;
 * - unknown keys are remembered in their own bounded map, so a flood of them never evicts a
 *   real key's record (which would turn the flood into KV reads for real traffic too);
 * - the work a client address may cause with keys that fail is limited by the caller
 *   ({@link AuthOptions.failures}, a per-address token bucket): a lookup is paid for before it
 *   runs and refunded when the key is valid; a key found in memory is answered without consulting
 *   it, so one bad client behind a shared address cannot lock out the others.
 *
 * A key this isolate has seen valid is never refused because of a read: the store never deletes a
 * key record (revocation and environment deletion rewrite it as `revoked`), so a record that
 * reads as null, a read that throws or one that outlasts {@link KEY_KV_TIMEOUT_MS} keeps the
 * remembered answer (re-checked after another ttl). Lookups of one key run one at a time, and no
 * request awaits another's (load-marks.ts): while one request refreshes a remembered key the
 * others answer from memory; a first lookup's concurrent requests wait on their own timers.
 *
 * Stream re-checks look records up by digest (a stream token carries the key's digest, never the
 * key): the same maps, under `#<digest>`, which no well-formed key can collide with.
 *
 * Revocation bound when deployed: ttlMs (isolate memory) + the KV edge cache (`cacheTtl`
 * {@link KEY_KV_CACHE_TTL} s, the minimum KV accepts) + KV propagation (up to about 60 s).
 * @module
 */
import { sha256Hex } from "../core/sha256";
import { isKeyRecord, kvKey, type KeyRecord } from "../core/wire/kv-layout";
import { withTimeout } from "../core/timeout";
import { LoadMarks, waitStep } from "./load-marks";
import type { Take } from "./rate-limit";
import type { KvReader } from "./snapshot-cache";

/** Default for how long an isolate trusts a key lookup (either answer). */
export const DEFAULT_KEY_CACHE_MS = 250;
/** KV's own edge cache for key records: 30 s is the smallest `cacheTtl` KV accepts. */
export const KEY_KV_CACHE_TTL = 30;
/** A key lookup that has not answered by then counts as a KV failure (never as "unknown"). */
export const KEY_KV_TIMEOUT_MS = 1_000;
/** Bound on remembered known keys per isolate (oldest dropped first). */
const KNOWN_MAX = 10_000;
/** Bound on remembered unknown keys per isolate, kept apart so they never evict known ones. */
const UNKNOWN_MAX = 10_000;
/** What the store mints (store/secrets.ts `randomSecret`): a kind prefix and 32 random bytes, base64url. */
export const SDK_KEY_FORMAT = /^ef[cs]_[A-Za-z0-9_-]{43}$/;

export type AuthResult =
  | { ok: true; key: KeyRecord /** SHA-256 hex of the key: its KV record's name. */; digest: string }
  | { ok: false; status: 401 | 503; detail: string }
  | { ok: false; status: 429; detail: string; retryAfterSeconds: number };

/** Failed-authentication budget of the requesting address (see rate-limit.ts `failureGate`). */
export interface FailureGate {
  /** Takes one unit: before a lookup of a key not known to be real, and for each refused key. */
  spend(): Take;
  /** Gives the unit back: the looked-up key was valid (or KV, not the client, failed). */
  refund(): void;
}

export interface AuthOptions {
  ttlMs?: number;
  now?: number;
  failures?: FailureGate;
  /** Deadline of one KV read (default {@link KEY_KV_TIMEOUT_MS}). */
  kvTimeoutMs?: number;
}

interface Known {
  record: KeyRecord;
  digest: string;
  until: number;
}

const known = new Map<string, Known>();
const unknown = new Map<string, number>();

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

/** Lookups in progress, by cache id; a lookup is one bounded KV read, so 2 × its deadline is overdue. */
const lookups = new LoadMarks(2 * KEY_KV_TIMEOUT_MS);

/** The record as KV has it now: null when absent (or not a record), an Error when KV failed or timed out. */
async function readRecord(digest: string, kv: KvReader, timeoutMs: number): Promise<KeyRecord | null | Error> {
  try {
    const raw = await withTimeout(
      kv.get(kvKey.sdkKey(digest), { type: "json", cacheTtl: KEY_KV_CACHE_TTL }),
      timeoutMs,
      `SDK key lookup timed out after ${timeoutMs} ms`,
    );
    return isKeyRecord(raw) ? raw : null;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function remember<V>(map: Map<string, V>, max: number, id: string, value: V): void {
  map.delete(id); // re-insert: Map order is oldest first
  if (map.size >= max) map.delete(map.keys().next().value as string);
  map.set(id, value);
}

function verdict(record: KeyRecord | null, digest: string): AuthResult {
  if (!record) return { ok: false, status: 401, detail: "unknown SDK key" };
  if (record.revoked) return { ok: false, status: 401, detail: "revoked SDK key" };
  return { ok: true, key: record, digest };
}

/**
 * The record under cache id `id` (a presented key, or `#<digest>`): from memory while fresh, else
 * one KV read (see the module note for what a failed or empty read means for a remembered key).
 * With nothing remembered and KV failing the answer is 503 (the key may well be valid), never 401.
 */
async function resolve(id: string, digestOf: () => Promise<string>, kv: KvReader, o: AuthOptions): Promise<AuthResult> {
  const ttlMs = o.ttlMs ?? DEFAULT_KEY_CACHE_MS;
  let now: number;
  let hit: Known | undefined;
  let miss: number | undefined;
  for (;;) {
    now = o.now ?? Date.now();
    hit = known.get(id);
    if (hit && hit.until > now) return verdict(hit.record, hit.digest);
    miss = unknown.get(id);
    if (!hit && miss !== undefined && miss > now) return refused(o, verdict(null, ""));
    if (!lookups.busy(id, now)) break;
    // Another request is looking this key up: a remembered answer serves meanwhile; with none,
    // wait for that lookup to land (on this request's own timer, never on its promise).
    if (hit) return verdict(hit.record, hit.digest);
    await waitStep();
  }
  // From here on the lookup costs a digest and a KV read. For a key not known to be real, the
  // address's failure budget pays for it up front; a known key's refresh is one read per ttl.
  const gate = hit ? undefined : o.failures;
  const spent = gate?.spend();
  if (spent && !spent.ok) return tooMany(spent.retryAfterSeconds);
  const mark = lookups.begin(id, now);
  try {
    const digest = hit?.digest ?? (await digestOf());
    const fetched = await readRecord(digest, kv, o.kvTimeoutMs ?? KEY_KV_TIMEOUT_MS);
    if (fetched instanceof Error || (fetched === null && hit)) {
      if (fetched instanceof Error) console.error("sdk key lookup failed", fetched.message);
      else console.error(`sdk key ${hit!.record.id} read as absent; keeping what this isolate knows`);
      gate?.refund();
      if (hit) {
        remember(known, KNOWN_MAX, id, { ...hit, until: now + ttlMs });
        return verdict(hit.record, hit.digest);
      }
      if (miss !== undefined) return refused(o, verdict(null, ""));
      return { ok: false, status: 503, detail: "SDK key could not be verified: flag storage unavailable" };
    }
    if (fetched) {
      unknown.delete(id);
      remember(known, KNOWN_MAX, id, { record: fetched, digest, until: now + ttlMs });
      if (!fetched.revoked) gate?.refund();
    } else {
      remember(unknown, UNKNOWN_MAX, id, now + ttlMs);
    }
    return verdict(fetched, digest);
  } finally {
    lookups.end(id, mark);
  }
}

/** A refusal decided without a lookup still spends from the address's budget. */
function refused(o: AuthOptions, result: AuthResult): AuthResult {
  if (!result.ok && result.status === 401) o.failures?.spend();
  return result;
}

function tooMany(retryAfterSeconds: number): AuthResult {
  return {
    ok: false,
    status: 429,
    detail: `too many failed authentications from this address; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  };
}

/** Resolves the request's SDK key (see the module note for what a made-up key costs). */
export async function authenticate(headers: Headers, kv: KvReader, options: AuthOptions = {}): Promise<AuthResult> {
  const key = presentedKey(headers);
  if (!key)
    return refused(options, {
      ok: false,
      status: 401,
      detail: "missing SDK key: send Authorization: Bearer <key> or X-API-Key",
    });
  if (!SDK_KEY_FORMAT.test(key)) return refused(options, { ok: false, status: 401, detail: "unknown SDK key" });
  return resolve(key, () => sha256Hex(key), kv, options);
}

/** The key record behind a stream token's digest, through the same memory as {@link authenticate}. */
export function authenticateDigest(digest: string, kv: KvReader, options: AuthOptions = {}): Promise<AuthResult> {
  return resolve(`#${digest}`, async () => digest, kv, options);
}
