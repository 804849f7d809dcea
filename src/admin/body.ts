/**
 * Request bodies: a size ceiling (413) enforced on the declared length and on the streamed bytes,
 * then one JSON parse (400 on malformed JSON), then zod validation (400 naming each field).
 * @module
 */
import { createMiddleware } from "hono/factory";
import { zValidator } from "@hono/zod-validator";
import type { Context, ValidationTargets } from "hono";
import type { $ZodType } from "zod/v4/core";
import { checkJsonShape, DOCUMENT_LIMITS } from "../core/limits";
import { apiError, invalid, zodIssues } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;
/** flagd documents of a few thousand flags pass 1 MB; the Durable Object RPC limit is far above this. */
export const MAX_FLAGD_BYTES = 10 * 1024 * 1024;

const parsedBodies = new WeakMap<object, unknown>();

/** The value `jsonBody` parsed, for routes without a validator (no second parse of a 10 MB document). */
export function parsedBody(c: Context): unknown {
  return parsedBodies.get(c.req);
}

/**
 * Reads the body once with a ceiling and parses it as JSON whatever the Content-Type says
 * (curl's `-d` sends form encoding by default). The text is left where Hono's validator and
 * `c.req.json()` look for it (`bodyCache.text`, marked JSON), so the stream is never read twice.
 */
export function jsonBody(maxBytes = MAX_BODY_BYTES) {
  return createMiddleware(async function jsonBody(c, next) {
    const tooLarge = () =>
      apiError(c, 413, "PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`, { limit: maxBytes });
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) return tooLarge();

    const raw = c.req.raw;
    let text = "";
    if (raw.body) {
      // Chunked bodies carry no length: count while reading and stop at the ceiling.
      const reader = raw.body.getReader();
      const chunks: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => {});
          return tooLarge();
        }
        chunks.push(value);
      }
      const bytes = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
      }
      text = new TextDecoder().decode(bytes);
    }
    if (text.trim() === "") return apiError(c, 400, "MALFORMED_JSON", "request body must be a JSON document");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return apiError(c, 400, "MALFORMED_JSON", `request body is not valid JSON: ${(e as Error).message}`);
    }
    // Depth, sizes and `__proto__` keys, before zod or any other recursive reader sees it.
    const shape = checkJsonShape(parsed, DOCUMENT_LIMITS);
    if (shape) return invalid(c, [shape], "request body");
    const headers = new Headers(raw.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    c.req.raw = new Request(raw.url, { method: raw.method, headers });
    // Hono keeps promises here although its type says values.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    parsedBodies.set(c.req, parsed);
    await next();
  });
}

/**
 * zValidator with the admin error shape. Works with zod/mini schemas: the validator only calls
 * `safeParseAsync`, which mini schemas have.
 */
export function validate<T extends $ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  const what = target === "json" ? "request body" : target === "query" ? "query string" : target;
  return zValidator(target, schema, (result, c) => {
    if (!result.success) return invalid(c, zodIssues(result.error.issues), what);
  });
}
