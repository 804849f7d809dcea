/**
 * Canonical JSON and a fast 64-bit content hash: one place for "same value, same text, same
 * hash", used by flagd export/import fingerprints and by the edge's ETags and cache keys.
 * @module
 */

/** Text to emit as is, on the work stack of canonicalJson (values are everything else). */
class Raw {
  constructor(readonly text: string) {}
}
const COMMA = new Raw(",");
const CLOSE_ARRAY = new Raw("]");
const CLOSE_OBJECT = new Raw("}");

/**
 * JSON with object keys sorted at every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}` agree.
 * Injective, so it can key caches: what JSON cannot write is written as a bare token that no
 * JSON text contains (`Infinity`, `-Infinity`, `NaN`, `undefined` in arrays and at the top;
 * JSON.stringify would write `null` for all of them, so `{"n":1e309}` would share `{"n":null}`'s
 * entry). Object properties that are undefined are absent, as in JSON. Iterative: any depth.
 */
export function canonicalJson(value: unknown): string {
  let out = "";
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof Raw) {
      out += v.text;
      continue;
    }
    if (v === null) out += "null";
    else if (typeof v === "number") out += Number.isFinite(v) ? JSON.stringify(v) : String(v);
    else if (typeof v === "string" || typeof v === "boolean") out += JSON.stringify(v);
    else if (typeof v !== "object") out += v === undefined ? "undefined" : `undefined:${typeof v}`;
    else if (Array.isArray(v)) {
      out += "[";
      stack.push(CLOSE_ARRAY);
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]);
        if (i > 0) stack.push(COMMA);
      }
    } else {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      out += "{";
      stack.push(CLOSE_OBJECT);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push(obj[k], new Raw(JSON.stringify(k) + ":"));
        if (i > 0) stack.push(COMMA);
      }
    }
  }
  return out;
}

/**
 * Two 32-bit FNV-1a style lanes over UTF-16 code units, as 16 hex characters. Synchronous and
 * allocation-free: stable and well spread, not secret — never a security boundary (the edge's
 * shared cache keys use SHA-256 instead).
 */
export function hash64(text: string): string {
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

/**
 * The 64-bit hash of a value's canonical JSON: equal for equal values whatever their key order.
 * What flagd export/import fingerprints (is this JSON Logic still what export wrote?) and the
 * bulk ETag's context part are. Not a security boundary; collisions only matter for deliberate
 * forgeries of one's own document, or of one's own ETag.
 */
export function contentHash(value: unknown): string {
  return hash64(canonicalJson(value));
}
