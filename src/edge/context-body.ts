/**
 * Reads an OFREP request body `{"context":{…}}` into an evaluation context.
 *
 * The spec marks body and `context` required; like flagd we accept an empty body or a body
 * without `context` as the empty context (a context without `targetingKey` is valid here), so a
 * bare `curl -X POST` evaluates. Malformed JSON or invalid UTF-8 → PARSE_ERROR; a body or `context`
 * that is not a JSON object, or a non-string `targetingKey` → INVALID_CONTEXT.
 *
 * Limits (contexts are attacker-controlled; OFREP has no 413, so a refusal is a 400):
 * - at most {@link MAX_BODY_BYTES} bytes, counted as they arrive: a larger body (chunked or with
 *   an honest Content-Length) is cancelled at the limit, never read whole → PARSE_ERROR;
 * - the context's shape ({@link CONTEXT_LIMITS}: nesting depth, number of values, string and
 *   attribute-name length),
 *   checked without recursion before anything else walks the context → INVALID_CONTEXT;
 * - numbers must be finite: `1e309` parses to Infinity, which canonical JSON would write as
 *   `null` and so share the cache entry and ETag of `{"n":null}` → INVALID_CONTEXT. `-0` is read
 *   as 0 for the same reason (canonical JSON writes both as `0`).
 * @module
 */
import type { EvaluationContext } from "../core/result";

export const MAX_BODY_BYTES = 64 * 1024;

/** Context shape limits: flat contexts of a few dozen attributes are the norm. */
export const CONTEXT_LIMITS = {
  /** Nesting below `context` (an object of scalars has depth 1). */
  maxDepth: 32,
  /** Objects, arrays and scalars in the whole context. */
  maxValues: 10_000,
  /** Characters in any one string or attribute name (every regex and string operator reads them). */
  maxStringChars: 8_192,
} as const;

export type ContextRead =
  | { ok: true; context: EvaluationContext }
  | { ok: false; errorCode: "PARSE_ERROR" | "INVALID_CONTEXT"; errorDetails: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const tooLarge = (): ContextRead => ({ ok: false, errorCode: "PARSE_ERROR", errorDetails: `request body exceeds ${MAX_BODY_BYTES} bytes` });

/** The body as text, or null past `max` bytes (the rest is cancelled, not read). */
async function readLimited(request: Request, max: number): Promise<string | null | "invalid-utf8"> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > max) {
    await request.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return "invalid-utf8";
  }
}

/** An attribute name (or array index) for an error message, cut short. */
function named(k: string | number): string {
  const text = String(k);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** Iterative walk (an explicit stack, no recursion) enforcing {@link CONTEXT_LIMITS} and finite numbers. */
function checkContext(context: Record<string, unknown>): string | null {
  const stack: [container: Record<string, unknown> | unknown[], depth: number][] = [[context, 1]];
  let values = 0;
  while (stack.length > 0) {
    const [container, depth] = stack.pop()!;
    if (depth > CONTEXT_LIMITS.maxDepth) return `context nests deeper than ${CONTEXT_LIMITS.maxDepth} levels`;
    const entries = Array.isArray(container) ? container.entries() : Object.entries(container);
    for (const [k, v] of entries) {
      if (++values > CONTEXT_LIMITS.maxValues) return `context has more than ${CONTEXT_LIMITS.maxValues} values`;
      if (typeof k === "string" && k.length > CONTEXT_LIMITS.maxStringChars) return `a context attribute name is longer than ${CONTEXT_LIMITS.maxStringChars} characters`;
      if (typeof v === "string") {
        if (v.length > CONTEXT_LIMITS.maxStringChars) return `context value at ${named(k)} is longer than ${CONTEXT_LIMITS.maxStringChars} characters`;
      } else if (typeof v === "number") {
        if (!Number.isFinite(v)) return `context value at ${named(k)} is not a finite number`;
        if (Object.is(v, -0)) (container as Record<string, unknown>)[k as string] = 0;
      } else if (typeof v === "object" && v !== null) {
        stack.push([v as Record<string, unknown> | unknown[], depth + 1]);
      }
    }
  }
  return null;
}

export async function readContext(request: Request): Promise<ContextRead> {
  const text = await readLimited(request, MAX_BODY_BYTES);
  if (text === null) return tooLarge();
  if (text === "invalid-utf8") return { ok: false, errorCode: "PARSE_ERROR", errorDetails: "request body is not valid UTF-8" };
  if (text.trim() === "") return { ok: true, context: {} };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, errorCode: "PARSE_ERROR", errorDetails: "request body is not valid JSON" };
  }
  if (!isPlainObject(body)) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: 'request body must be a JSON object {"context":{…}}' };
  if (!Object.hasOwn(body, "context")) return { ok: true, context: {} };
  const context = body.context;
  if (!isPlainObject(context)) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "context must be a JSON object" };
  const shape = checkContext(context);
  if (shape) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: shape };
  if (context.targetingKey !== undefined && typeof context.targetingKey !== "string") {
    return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "targetingKey must be a string" };
  }
  return { ok: true, context: context as EvaluationContext };
}
