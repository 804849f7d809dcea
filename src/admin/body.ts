/**
 * Request bodies, read once: a byte ceiling enforced while reading (413, the stream is cancelled
 * at the first byte over), one JSON parse (400 on malformed JSON or invalid UTF-8), the shape
 * bounds of core/limits.ts (400 naming the path: depth, counts, lengths, `__proto__`), then
 * optionally a zod schema (400 naming each field). The parsed value reaches the route as
 * `c.var.body`; nothing is left for Hono to read or parse again.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { safeParse, type $ZodType, type output } from "zod/v4/core";
import { zodIssues } from "../core/issues";
import { checkJsonShape, DOCUMENT_LIMITS } from "../core/limits";
import { readBoundedText } from "../http/bounded-body";
import { apiError, invalid } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;
/** flagd documents of a few thousand flags pass 1 MB; the Durable Object RPC limit is far above this. */
export const MAX_FLAGD_BYTES = 10 * 1024 * 1024;

/**
 * Reads, parses and checks the JSON body whatever the Content-Type says (curl's `-d` sends form
 * encoding by default), and sets `c.var.body`: the zod output of `schema`, or the checked JSON
 * value when the store validates it itself (flag, segment and flagd documents: parsed once here,
 * validated once in the Durable Object).
 */
export function jsonBody<S extends $ZodType = $ZodType<unknown>>(schema?: S, maxBytes = MAX_BODY_BYTES) {
  return createMiddleware<{ Variables: { body: output<S> } }>(async function jsonBody(c, next) {
    const read = await readBoundedText(c.req.raw, maxBytes);
    if (!read.ok) {
      return read.error === "too-large"
        ? apiError(c, 413, "PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`, { limit: maxBytes })
        : apiError(c, 400, "MALFORMED_JSON", "request body is not valid UTF-8");
    }
    if (read.text.trim() === "") return apiError(c, 400, "MALFORMED_JSON", "request body must be a JSON document");
    let value: unknown;
    try {
      value = JSON.parse(read.text);
    } catch (e) {
      return apiError(c, 400, "MALFORMED_JSON", `request body is not valid JSON: ${(e as Error).message}`);
    }
    const problem = checkJsonShape(value, DOCUMENT_LIMITS);
    if (problem) return invalid(c, [problem], "request body");
    if (schema) {
      const parsed = safeParse(schema, value);
      if (!parsed.success) return invalid(c, zodIssues(parsed.error.issues), "request body");
      value = parsed.data;
    }
    c.set("body", value as output<S>);
    await next();
  });
}

/**
 * zValidator with the admin error shape, for query strings (bodies go through `jsonBody`). Works
 * with zod/mini schemas: the validator only calls `safeParseAsync`, which mini schemas have.
 */
export function validate<T extends $ZodType, Target extends Exclude<keyof ValidationTargets, "json">>(
  target: Target,
  schema: T,
) {
  const what = target === "query" ? "query string" : target;
  return zValidator(target, schema, (result, c) => {
    if (!result.success) return invalid(c, zodIssues(result.error.issues), what);
  });
}
