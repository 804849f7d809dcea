/**
 * Entity tags for bulk evaluations and snapshots, and the `If-None-Match` comparison.
 * A bulk answer is a function of (environment version, key kind, context), so its tag is built
 * from exactly those; two different contexts never share a tag unless their 64-bit hashes collide,
 * and only the client that sent a context ever sends its tag back. The context part is
 * `hash64(canonicalJson(context))` (core/canonical.ts).
 * @module
 */

/** Strong tag for one bulk answer: `"<version>-<c|s>-<context hash>"`. */
export function bulkEtag(version: number, kind: "client" | "server", ctxHash: string): string {
  return `"${version}-${kind === "client" ? "c" : "s"}-${ctxHash}"`;
}

const BULK_ETAG = /^(?:W\/)?"?(\d{1,12})-[cs]-/;

/**
 * The highest environment version named by the bulk tags in an `If-None-Match` header (the reverse
 * of {@link bulkEtag}), or 0 when it names none.
 */
export function bulkEtagVersion(header: string | null | undefined): number {
  let version = 0;
  for (const part of (header ?? "").split(",")) {
    const m = BULK_ETAG.exec(part.trim());
    if (m) version = Math.max(version, Number(m[1]));
  }
  return version;
}

/** Strong tag for the snapshot route: `"<version>-<format>"`. */
export function snapshotEtag(version: number, format: string): string {
  return `"${version}-${format}"`;
}

/**
 * RFC 9110 §13.1.2: `If-None-Match` uses weak comparison, so `W/` prefixes are ignored; `*`
 * matches any current representation. Clients that strip quotes still match.
 */
export function ifNoneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, "").replace(/^"|"$/g, "");
  for (const part of header.split(",")) {
    const tag = part.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
    if (tag === "*" || tag === bare) return true;
  }
  return false;
}
