/**
 * Reuse of rendered answers, and the design note for caching on the edge.
 *
 * The four levels (the first three hold the snapshot, see snapshot-cache.ts; the fourth holds
 * rendered answers):
 * 1. isolate memory: the compiled snapshot, trusted for SNAPSHOT_REFRESH_SECONDS;
 * 2. Workers KV: pointer and immutable versioned snapshot;
 * 3. last known good: the held snapshot keeps answering through a KV failure (`stale: true`);
 * 4. the CDN, i.e. the Cache API (`caches.default`), for answers that may be cached (below).
 * For those answers a request first gets the snapshot (levels 1-3: its version is part of every
 * key below, so it is always loaded first; in a warm isolate that is a memory read), then goes:
 * rendered-answer memo in isolate memory ({@link renderMemo}) → Cache API → evaluate from the
 * snapshot and store in both. The Cache API is looked up only after the memo misses, so the hot
 * path (a repeat in a warm isolate) does no I/O; it is shared by every isolate of the data
 * center, so a cold isolate that has loaded the snapshot serves repeats without re-evaluating. Clients add their own cache in front: ETag/304 on the bulk and snapshot routes.
 *
 * Keys. The memo is keyed by the exact inputs (environment, version, key kind or format, and
 * for bulk the canonical context itself, not a hash, so two contexts never share an entry). The
 * Cache API stores GET only and OFREP evaluation is a POST, so entries live under synthetic GET
 * URLs:
 *   `https://edgeflags.cache/v1/bulk/<env>/<version>/<kind>/<sha256(context)>`
 *   `https://edgeflags.cache/v1/snapshot/<env>/<version>/<format>`
 * Every part is required: without the environment two environments share flags; without the
 * kind a client key is served flags hidden from clients; without the version a change is never
 * seen. The context part is SHA-256, not the fast 64-bit ETag hash, because a crafted collision
 * here would poison the answer every visitor of the data center gets for a day. A version's
 * content never changes, so the stored copy says `public, max-age=86400` and is never purged: a
 * new version is a new URL and old entries age out.
 *
 * Cached (memo and Cache API):
 * - the `flags` array of a bulk answer for a context WITHOUT `targetingKey` (anonymous visitors
 *   send the same few contexts again and again). Only the array: `metadata` (version, `stale`)
 *   and the signed `eventStreams` URL are added per request, so a stale or hourly part is never
 *   frozen into an entry;
 * - the rendered body of `GET /sdk/v1/snapshot` per format (server keys only; the flagd export is
 *   the costly one). It depends on nothing but the version, so kind is not part of its key; the
 *   route authenticates before any level is read, so a cached copy is never served without a key.
 *
 * Never cached, at any level:
 * - answers for a context with a `targetingKey`: per user, so unbounded, rarely repeated, and
 *   personal (a shared cache must not hold one user's answer);
 * - answers that depend on time (`$flagd.timestamp`, before/after rules): they change without a
 *   new version, so a versioned key would serve yesterday's answer; they also get no ETag and
 *   never a 304;
 * - single-flag evaluations (one evaluation is cheaper than any lookup);
 * - error answers (400/401/403/404/429/503) and 304s: they are decided before any level is read;
 * - anything while no snapshot is loaded (there is no version to key it by).
 *
 * The Cache API is best effort: a failing `match` counts as a miss and a failing `put` is only
 * logged. It is per data center and per zone, and a no-op on `*.workers.dev` (only custom
 * domains get a working cache; a local HIT in tests or `wrangler dev` can hide that).
 * Memo bounds: {@link MEMO_MAX_ENTRIES} entries and {@link MEMO_MAX_CHARS} characters per
 * isolate, least recently stored dropped first.
 * @module
 */
import type { KeyKind } from "../core/wire/kv-layout";

export const MEMO_MAX_ENTRIES = 1_000;
export const MEMO_MAX_CHARS = 8_000_000;
/** Larger renderings are not kept (one huge environment must not evict everything else). */
const MEMO_MAX_ITEM_CHARS = 1_000_000;

/** Host of the synthetic cache URLs; never routed, only ever a Cache API key. */
export const CACHE_ORIGIN = "https://edgeflags.cache";
/** Lifetime of a stored copy: content per version is immutable, so only eviction needs a bound. */
export const CACHE_MAX_AGE = 86_400;
/** Diagnostic response header: which level answered (`memory`, `cache`, or `miss` = rendered now). */
export const CACHE_HEADER = "X-Edgeflags-Cache";
export type CacheSource = "memory" | "cache" | "miss";

export class RenderMemo {
  private readonly items = new Map<string, string>();
  private chars = 0;

  constructor(
    private readonly maxEntries = MEMO_MAX_ENTRIES,
    private readonly maxChars = MEMO_MAX_CHARS,
  ) {}

  get(key: string): string | undefined {
    return this.items.get(key);
  }

  set(key: string, text: string): void {
    // Keys hold whole contexts, so they count against the bound too.
    const size = key.length + text.length;
    if (size > MEMO_MAX_ITEM_CHARS) return;
    const old = this.items.get(key);
    if (old !== undefined) {
      this.chars -= key.length + old.length;
      this.items.delete(key);
    }
    this.items.set(key, text);
    this.chars += size;
    while (this.items.size > this.maxEntries || this.chars > this.maxChars) {
      const [oldest, value] = this.items.entries().next().value as [string, string];
      this.items.delete(oldest);
      this.chars -= oldest.length + value.length;
    }
  }

  clear(): void {
    this.items.clear();
    this.chars = 0;
  }
}

/** The isolate's memo for rendered answers. */
export const renderMemo = new RenderMemo();

/** Test hook: empties the rendered-answer memo, as a fresh isolate would have it (the snapshot stays). */
export function clearMemoryLevel(): void {
  renderMemo.clear();
}

export function memoKey(...parts: (string | number)[]): string {
  return parts.join("\u0000");
}

function requirePart(name: string, value: string | number): string {
  const text = String(value);
  if (text === "" || (typeof value === "number" && !(Number.isInteger(value) && value > 0))) {
    // A key with a part missing would share entries across environments, versions or kinds.
    throw new Error(`cache key part '${name}' is missing or invalid: ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(text);
}

/** Cache API key for a bulk answer. All four parts are required. */
export function bulkCacheUrl(environment: string, version: number, kind: KeyKind, contextSha256: string): string {
  return `${CACHE_ORIGIN}/v1/bulk/${requirePart("environment", environment)}/${requirePart("version", version)}/${requirePart("kind", kind)}/${requirePart("context", contextSha256)}`;
}

/** Cache API key for a snapshot rendering (server keys only, so no kind part). */
export function snapshotCacheUrl(environment: string, version: number, format: "native" | "flagd"): string {
  return `${CACHE_ORIGIN}/v1/snapshot/${requirePart("environment", environment)}/${requirePart("version", version)}/${requirePart("format", format)}`;
}

function edgeCache(): Cache | null {
  return typeof caches === "undefined" ? null : (caches as unknown as { default: Cache }).default;
}

async function readEdgeCache(url: string): Promise<string | undefined> {
  const cache = edgeCache();
  if (!cache) return undefined;
  try {
    const hit = await cache.match(url);
    return hit && hit.ok ? await hit.text() : undefined;
  } catch (err) {
    console.error("cache match failed", err instanceof Error ? err.message : err);
    return undefined;
  }
}

async function writeEdgeCache(url: string, text: string): Promise<void> {
  const cache = edgeCache();
  if (!cache) return;
  try {
    // `public, max-age`: the Cache API refuses `private`/`no-store` copies. No ETag on the stored
    // copy, so `match` never answers a conditional with a body-less 304.
    await cache.put(
      url,
      new Response(text, {
        headers: { "Content-Type": "application/json", "Cache-Control": `public, max-age=${CACHE_MAX_AGE}` },
      }),
    );
  } catch (err) {
    console.error("cache put failed", err instanceof Error ? err.message : err);
  }
}

export interface LayeredLookup {
  /** Exact memo key. */
  memoryKey: string;
  /** Cache API URL, computed only when the memo misses (it may need a digest). */
  cacheUrl: () => Promise<string>;
  render: () => string;
  /** `executionCtx.waitUntil`: the put finishes after the answer is sent. */
  waitUntil: (p: Promise<unknown>) => void;
}

/** memory → Cache API → render (then stored in both). Only for answers that may be cached. */
export async function throughLevels(l: LayeredLookup): Promise<{ text: string; source: CacheSource }> {
  const hot = renderMemo.get(l.memoryKey);
  if (hot !== undefined) return { text: hot, source: "memory" };
  let url: string | null = null;
  try {
    url = await l.cacheUrl();
  } catch (err) {
    // An incomplete key is a bug; answering without the Cache API beats sharing an entry or failing.
    console.error("no cache key", err instanceof Error ? err.message : err);
  }
  const stored = url === null ? undefined : await readEdgeCache(url);
  if (stored !== undefined) {
    renderMemo.set(l.memoryKey, stored);
    return { text: stored, source: "cache" };
  }
  const text = l.render();
  renderMemo.set(l.memoryKey, text);
  if (url !== null) l.waitUntil(writeEdgeCache(url, text));
  return { text, source: "miss" };
}
