/**
 * Reads an OFREP request body `{"context":{…}}` into an evaluation context.
 *
 * The spec marks body and `context` required; like flagd we accept an empty body or a body
 * without `context` as the empty context (a context without `targetingKey` is valid here), so a
 * bare `curl -X POST` evaluates. Malformed JSON → PARSE_ERROR; a body or `context` that is not a
 * JSON object, or a non-string `targetingKey` → INVALID_CONTEXT. Bodies over 64 KiB are refused.
 * @module
 */
import type { EvaluationContext } from "../core/engine";

export const MAX_BODY_BYTES = 64 * 1024;

export type ContextRead =
  | { ok: true; context: EvaluationContext }
  | { ok: false; errorCode: "PARSE_ERROR" | "INVALID_CONTEXT"; errorDetails: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export async function readContext(request: Request): Promise<ContextRead> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > MAX_BODY_BYTES) return { ok: false, errorCode: "PARSE_ERROR", errorDetails: `request body exceeds ${MAX_BODY_BYTES} bytes` };
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return { ok: false, errorCode: "PARSE_ERROR", errorDetails: `request body exceeds ${MAX_BODY_BYTES} bytes` };
  if (text.trim() === "") return { ok: true, context: {} };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, errorCode: "PARSE_ERROR", errorDetails: "request body is not valid JSON" };
  }
  if (!isPlainObject(body)) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: 'request body must be a JSON object {"context":{…}}' };
  const context = body.context;
  if (context === undefined) return { ok: true, context: {} };
  if (!isPlainObject(context)) return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "context must be a JSON object" };
  if (context.targetingKey !== undefined && typeof context.targetingKey !== "string") {
    return { ok: false, errorCode: "INVALID_CONTEXT", errorDetails: "targetingKey must be a string" };
  }
  return { ok: true, context: context as EvaluationContext };
}
