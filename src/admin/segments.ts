/**
 * Segments of one environment (reusable audiences that rules name with `{"segment": key}`):
 * list, read (with ETag), create or replace, delete; `If-Match` as for flags.
 * @module
 */
import { Hono } from "hono";
import { KEY_PATTERN } from "../core/model";
import type { EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { apiError, invalid, isStoreError, storeErrorResponse } from "./errors";
import { etag, ifMatchListRefused, parseIfMatch } from "./etag";
import { SegmentBody } from "./schemas";

export const segmentsApp = new Hono<EnvironmentEnv>();

const notFound = (c: Parameters<typeof apiError>[0], key: string, env: string) =>
  apiError(c, 404, "NOT_FOUND", `segment "${key}" does not exist in environment "${env}"`);

segmentsApp.get("/", async (c) => {
  const segments = await c.var.store.listSegments();
  if (isStoreError(segments)) return storeErrorResponse(c, segments);
  return c.json({ segments });
});

segmentsApp.get("/:key", async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFound(c, key, c.var.environment);
  const segment = await c.var.store.getSegment(key);
  if (isStoreError(segment)) {
    return segment.error === "not_found" ? notFound(c, key, c.var.environment) : storeErrorResponse(c, segment);
  }
  c.header("ETag", etag(segment.version));
  return c.json(segment);
});

segmentsApp.put("/:key", jsonBody(), validate("json", SegmentBody), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return invalid(c, [{ path: "key", message: "must match " + KEY_PATTERN.source }], "segment key in the URL");
  const body = c.req.valid("json");
  if (body.key !== undefined && body.key !== key) {
    return invalid(c, [{ path: "key", message: `must equal the key in the URL ("${key}") or be omitted` }], "request body");
  }
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  if (ifMatch.kind === "any") {
    // `If-Match: *` means "only if it exists" (RFC 9110 §13.1.1).
    const current = await c.var.store.getSegment(key);
    if (isStoreError(current)) {
      return apiError(c, 412, "PRECONDITION_FAILED", `If-Match: * but segment "${key}" does not exist`);
    }
  }
  const result = await c.var.store.putSegment(
    { ...body, key },
    c.var.actor,
    ifMatch.kind === "version" ? ifMatch.version : undefined,
  );
  if (isStoreError(result)) return storeErrorResponse(c, result);
  c.header("ETag", etag(result.segment.version));
  return c.json(result.segment, result.created ? 201 : 200);
});

segmentsApp.delete("/:key", async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFound(c, key, c.var.environment);
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  const result = await c.var.store.deleteSegment(key, c.var.actor, ifMatch.kind === "version" ? ifMatch.version : undefined);
  if (isStoreError(result)) {
    return result.error === "not_found" ? notFound(c, key, c.var.environment) : storeErrorResponse(c, result);
  }
  return c.json({ deleted: key, version: result.version });
});
