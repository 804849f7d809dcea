/**
 * Entity tags for bulk evaluations and snapshots, and the `If-None-Match` comparison.
 * A bulk answer is a function of (environment version, key kind, context), so its tag is built
 * from exactly those; two different contexts never share a tag unless their 64-bit hashes collide,
 * and only the client that sent a context ever sends its tag back. The context part is
 * `hash64(canonicalJson(context))` (core/canonical.ts).
 * @module
 */
import type { KeyKind } from "../core/wire/kv-layout";

/** Strong tag for one bulk answer: `"<version>-<c|s>-<context hash>"`. */
export function bulkEtag(version: number, kind: KeyKind, ctxHash: string): string {
  return `"${version}-${kind === "client" ? "c" : "s"}-${ctxHash}"`;
}

const BULK_ETAG = /^(\d{1,12})-[cs]-/;

/** A tag with its `W/` prefix and surrounding quotes removed: clients that strip quotes still match. */
function bareTag(tag: string): string {
  const t = tag.startsWith("W/") ? tag.slice(2) : tag;
  const start = t.startsWith('"') ? 1 : 0;
  const end = t.length > start && t.endsWith('"') ? t.length - 1 : t.length;
  return t.slice(start, end);
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * The tags an `If-None-Match` header names, bare (see {@link bareTag}): read once per request, then
 * asked both for the version it has seen ({@link bulkEtagVersion}) and for a match ({@link ifNoneMatchHits}).
 */
export function ifNoneMatchTags(header: string | null | undefined): readonly string[] {
  if (!header) return NO_TAGS;
  return header.split(",").map((part) => bareTag(part.trim()));
}

/**
 * The highest environment version named by the bulk tags of an `If-None-Match` header (the reverse
 * of {@link bulkEtag}), or 0 when it names none.
 */
export function bulkEtagVersion(tags: readonly string[]): number {
  return highestVersion(tags, BULK_ETAG);
}

function highestVersion(tags: readonly string[], pattern: RegExp): number {
  let version = 0;
  for (const tag of tags) {
    const m = pattern.exec(tag);
    if (m) version = Math.max(version, Number(m[1]));
  }
  return version;
}

/** Strong tag for the snapshot route: `"<version>-<format>"`. */
export function snapshotEtag(version: number, format: string): string {
  return `"${version}-${format}"`;
}

const SNAPSHOT_ETAG = /^(\d{1,12})-(?:native|flagd)$/;

/** The highest version named by the snapshot tags of an `If-None-Match` header (0: none). */
export function snapshotEtagVersion(tags: readonly string[]): number {
  return highestVersion(tags, SNAPSHOT_ETAG);
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` uses weak comparison, so `W/` prefixes are ignored; `*`
 * matches any current representation. `tags` from {@link ifNoneMatchTags}.
 */
export function ifNoneMatchHits(tags: readonly string[], etag: string): boolean {
  if (tags.length === 0) return false;
  const bare = bareTag(etag);
  for (const tag of tags) if (tag === "*" || tag === bare) return true;
  return false;
}
