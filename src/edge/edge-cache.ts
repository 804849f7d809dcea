/**
 * Reuse of rendered answers inside one isolate.
 *
 * Cached (in isolate memory, keyed by environment + version + key kind + context hash, so a new
 * version is a new key and nothing needs invalidating):
 * - the `flags` array of a bulk answer for a context WITHOUT `targetingKey` (anonymous visitors:
 *   the same few contexts are asked for again and again);
 * - the rendered body of `GET /sdk/v1/snapshot` per format (the flagd export is the costly one).
 *
 * Never cached:
 * - answers for a context with a `targetingKey` (per user: unbounded, rarely repeated, personal);
 * - answers that depend on time (`$flagd.timestamp`, before/after rules): they change without a
 *   new version, so they are also never answered with 304 and carry no ETag;
 * - single-flag evaluations (one evaluation is cheaper than a lookup);
 * - error answers (401/403/429/400/404/503) and anything served while no snapshot is loaded.
 *
 * Why not the Cache API: a `caches.default.match` is an I/O round trip on every request, which
 * costs more than evaluating from the in-memory snapshot it would stand in for; it is a no-op on
 * `*.workers.dev`; and OFREP evaluations are POSTs, so entries would need synthetic GET keys for
 * no gain over this memo. HTTP caches are instead helped by ETag/304 on the bulk and snapshot
 * routes and `Cache-Control: private, no-cache` on the snapshot (it is keyed by a secret header,
 * so a shared cache must not store it).
 *
 * Bounds: {@link MEMO_MAX_ENTRIES} entries and {@link MEMO_MAX_CHARS} characters per isolate,
 * least recently stored dropped first.
 * @module
 */

export const MEMO_MAX_ENTRIES = 1_000;
export const MEMO_MAX_CHARS = 8_000_000;
/** Larger renderings are not kept (one huge environment must not evict everything else). */
const MEMO_MAX_ITEM_CHARS = 1_000_000;

export class RenderMemo {
  private readonly items = new Map<string, string>();
  private chars = 0;

  constructor(private readonly maxEntries = MEMO_MAX_ENTRIES, private readonly maxChars = MEMO_MAX_CHARS) {}

  get(key: string): string | undefined {
    return this.items.get(key);
  }

  set(key: string, text: string): void {
    if (text.length > MEMO_MAX_ITEM_CHARS) return;
    const old = this.items.get(key);
    if (old !== undefined) {
      this.chars -= old.length;
      this.items.delete(key);
    }
    this.items.set(key, text);
    this.chars += text.length;
    while (this.items.size > this.maxEntries || this.chars > this.maxChars) {
      const [oldest, value] = this.items.entries().next().value as [string, string];
      this.items.delete(oldest);
      this.chars -= value.length;
    }
  }

  /** Computes and stores on a miss. */
  getOrSet(key: string, render: () => string): string {
    const hit = this.items.get(key);
    if (hit !== undefined) return hit;
    const text = render();
    this.set(key, text);
    return text;
  }

  get size(): number {
    return this.items.size;
  }
}

/** The isolate's memo for rendered answers. */
export const renderMemo = new RenderMemo();

export function memoKey(...parts: (string | number)[]): string {
  return parts.join("\u0000");
}
