/**
 * Reads an OFREP request body `{"context":{…}}` into an evaluation context.
 *
 * The spec marks body and `context` required; like flagd we accept an empty body or a body
 * without `context` as the empty context (a context without `targetingKey` is valid here), so a
 * bare `curl -X POST` evaluates. Malformed JSON or invalid UTF-8 → PARSE_ERROR; a body or `context`
 * that is not a JSON object, or a non-string `targetingKey` → INVALID_CONTEXT.
 *
 * Limits (contexts are attacker-controlled; OFREP has no 413, so a refusal is a 400):
 * - at most {@link MAX_OFREP_BODY_BYTES} bytes, counted as they arrive: a larger body (chunked or
 *   with an honest Content-Length) is cancelled at the limit, never read whole → PARSE_ERROR;
 * - the context's shape (core/limits.ts `CONTEXT_LIMITS`: nesting depth, keys per object, array
 *   and string lengths, no `__proto__`), checked without recursion before anything else walks the
 *   context → INVALID_CONTEXT naming the path;
 * - numbers must be finite (same check): `1e309` parses to Infinity, which canonical JSON would
 *   write as `null` and so share the cache entry and ETag of `{"n":null}` → INVALID_CONTEXT.
 * @module
 */
import type { EvaluationContext } from "../core/engine";
import { checkJsonShape, CONTEXT_LIMITS, MAX_OFREP_BODY_BYTES } from "../core/limits";

export type ContextRead =
  | { ok: true; context: EvaluationContext }
  | { ok: false; errorCode: "PARSE_ERROR" | "INVALID_CONTEXT"; errorDetails: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const tooLarge = (): ContextRead => ({ ok: false, errorCode: "PARSE_ERROR", errorDetails: `request body exceeds ${MAX_OFREP_BODY_BYTES} bytes` });

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

export async function readContext(request: Request): Promise<ContextRead> {
  const text = await readLimited(request, MAX_OFREP_BODY_BYTES);
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
  const shape = checkJsonShape(context, CONTEXT_LIMITS, "context");
  if (shape) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: `${shape.path}: ${shape.message}` };
  if (context.targetingKey !== undefined && typeof context.targetingKey !== "string") {
    return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "targetingKey must be a string" };
  }
  return { ok: true, context: context as EvaluationContext };
}
