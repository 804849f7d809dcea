/**
 * Entity tags for bulk evaluations and snapshots, and the `If-None-Match` comparison.
 * A bulk answer is a function of (environment version, key kind, context), so its tag is built
 * from exactly those; two different contexts never share a tag unless their 64-bit hashes collide,
 * and only the client that sent a context ever sends its tag back.
 * @module
 */

/**
 * JSON with object keys sorted at every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}` hash the
 * same. Contexts are small; this runs once per bulk request.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(obj[k])).join(",") + "}";
}

/**
 * 64-bit FNV-1a over UTF-16 code units, as 16 hex characters. Synchronous and allocation-free:
 * an ETag needs to be stable and well spread, not secret (SHA-256 via crypto.subtle would add an
 * await to every bulk request for no security gain).
 */
export function hash64(text: string): string {
  // Two 32-bit lanes with different offsets stand in for one 64-bit state (no BigInt on the hot path).
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

export function contextHash(context: unknown): string {
  return hash64(canonicalJson(context));
}

/** Strong tag for one bulk answer: `"<version>-<c|s>-<context hash>"`. */
export function bulkEtag(version: number, kind: "client" | "server", ctxHash: string): string {
  return `"${version}-${kind === "client" ? "c" : "s"}-${ctxHash}"`;
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
