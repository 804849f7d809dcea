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
import type { EvaluationContext } from "../core/evaluation-types";
import { checkJsonShape, CONTEXT_LIMITS, MAX_OFREP_BODY_BYTES } from "../core/limits";
import { readBoundedText } from "../http/bounded-body";

export type ContextRead =
  | { ok: true; context: EvaluationContext }
  | { ok: false; errorCode: "PARSE_ERROR" | "INVALID_CONTEXT"; errorDetails: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export async function readContext(request: Request): Promise<ContextRead> {
  const read = await readBoundedText(request, MAX_OFREP_BODY_BYTES);
  if (!read.ok) {
    const errorDetails =
      read.error === "too-large"
        ? `request body exceeds ${MAX_OFREP_BODY_BYTES} bytes`
        : "request body is not valid UTF-8";
    return { ok: false, errorCode: "PARSE_ERROR", errorDetails };
  }
  const text = read.text;
  if (text.trim() === "") return { ok: true, context: {} };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, errorCode: "PARSE_ERROR", errorDetails: "request body is not valid JSON" };
  }
  if (!isPlainObject(body))
    return {
      ok: false,
      errorCode: "INVALID_CONTEXT",
      errorDetails: 'request body must be a JSON object {"context":{…}}',
    };
  if (!Object.hasOwn(body, "context")) return { ok: true, context: {} };
  const context = body.context;
  if (!isPlainObject(context))
    return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "context must be a JSON object" };
  const shape = checkJsonShape(context, CONTEXT_LIMITS, "context");
  if (shape) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: `${shape.path}: ${shape.message}` };
  if (context.targetingKey !== undefined && typeof context.targetingKey !== "string") {
    return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "targetingKey must be a string" };
  }
  return { ok: true, context: context as EvaluationContext };
}
