/**
 * Flags of one environment in the native model: list, read (with ETag), create or replace,
 * delete, and the one-call on/off switch. `If-Match` is optional; a stale one answers 412 and
 * changes nothing (the store compares inside its single-writer transaction).
 * @module
 */
import { Hono } from "hono";
import { KEY_PATTERN } from "../core/model";
import type { EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { apiError, invalid, isStoreError, storeErrorResponse } from "./errors";
import { etag, ifMatchListRefused, parseIfMatch } from "./etag";
import { FlagBody, ToggleBody } from "./schemas";

export const flagsApp = new Hono<EnvironmentEnv>();

const notFound = (c: Parameters<typeof apiError>[0], key: string, env: string) =>
  apiError(c, 404, "NOT_FOUND", `flag "${key}" does not exist in environment "${env}"`);

flagsApp.get("/", async (c) => {
  const flags = await c.var.store.listFlags();
  if (isStoreError(flags)) return storeErrorResponse(c, flags);
  return c.json({ flags });
});

flagsApp.get("/:key", async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFound(c, key, c.var.environment);
  const flag = await c.var.store.getFlag(key);
  if (isStoreError(flag)) {
    return flag.error === "not_found" ? notFound(c, key, c.var.environment) : storeErrorResponse(c, flag);
  }
  c.header("ETag", etag(flag.version));
  return c.json(flag);
});

flagsApp.put("/:key", jsonBody(), validate("json", FlagBody), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return invalid(c, [{ path: "key", message: "must match " + KEY_PATTERN.source }], "flag key in the URL");
  const body = c.req.valid("json");
  if (body.key !== undefined && body.key !== key) {
    return invalid(c, [{ path: "key", message: `must equal the key in the URL ("${key}") or be omitted` }], "request body");
  }
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  if (ifMatch.kind === "any") {
    // `If-Match: *` means "only if it exists" (RFC 9110 §13.1.1).
    const current = await c.var.store.getFlag(key);
    if (isStoreError(current)) {
      return apiError(c, 412, "PRECONDITION_FAILED", `If-Match: * but flag "${key}" does not exist`);
    }
  }
  const result = await c.var.store.putFlag(
    { ...body, key },
    c.var.actor,
    ifMatch.kind === "version" ? ifMatch.version : undefined,
  );
  if (isStoreError(result)) return storeErrorResponse(c, result);
  c.header("ETag", etag(result.flag.version));
  return c.json(result.flag, result.created ? 201 : 200);
});

flagsApp.delete("/:key", async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFound(c, key, c.var.environment);
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  const result = await c.var.store.deleteFlag(key, c.var.actor, ifMatch.kind === "version" ? ifMatch.version : undefined);
  if (isStoreError(result)) {
    return result.error === "not_found" ? notFound(c, key, c.var.environment) : storeErrorResponse(c, result);
  }
  return c.json({ deleted: key, version: result.version });
});

flagsApp.post("/:key/toggle", jsonBody(), validate("json", ToggleBody), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFound(c, key, c.var.environment);
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  const { enabled } = c.req.valid("json");
  const result = await c.var.store.setFlagEnabled(
    key,
    enabled,
    c.var.actor,
    ifMatch.kind === "version" ? ifMatch.version : undefined,
  );
  if (isStoreError(result)) {
    return result.error === "not_found" ? notFound(c, key, c.var.environment) : storeErrorResponse(c, result);
  }
  c.header("ETag", etag(result.flag.version));
  return c.json(result.flag);
});
