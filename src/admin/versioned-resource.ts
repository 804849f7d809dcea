/**
 * The keyed, versioned resources of one environment (flags, segments) share one HTTP face: list,
 * read with ETag, create or replace, delete. `If-Match` is optional; a stale one answers 412 and
 * changes nothing, because the store compares versions inside its single-writer transaction.
 * A resource is its noun, its body schema and its row of store methods below; extras (the flag
 * toggle) are added by the caller on the returned app.
 * @module
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { type Flag, KEY_PATTERN, type Segment } from "../core/model";
import type { EnvironmentStoreApi, Stored } from "../core/wire/store-rpc";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody, MAX_BODY_BYTES, MAX_FLAGD_BYTES } from "./body";
import { apiError, invalid, storeErrorResponse } from "./errors";
import { etag, ifMatchListRefused, parseIfMatch } from "./etag";

/**
 * Each resource's store RPC methods, by name, called on the stub as `store[name](…)`: adding a
 * resource is one row here, not another adapter object (or copy of the routes) beside it.
 */
const STORE_METHODS = {
  flag: {
    plural: "flags",
    maxBytes: MAX_BODY_BYTES,
    list: "listFlags",
    get: "getFlag",
    put: "putFlag",
    delete: "deleteFlag",
  },
  // A segment of 100,000 user keys is 1–3 MB of JSON: it gets the flagd import's ceiling. Its list
  // answers key counts, not the keys (GET of one segment has them all).
  segment: {
    plural: "segments",
    maxBytes: MAX_FLAGD_BYTES,
    list: "listSegmentSummaries",
    get: "getSegment",
    put: "putSegment",
    delete: "deleteSegment",
  },
} as const satisfies Record<
  string,
  { plural: string; maxBytes: number } & Record<"list" | "get" | "put" | "delete", keyof EnvironmentStoreApi>
>;

export type Noun = keyof typeof STORE_METHODS;

/** A put answers the item under its noun (`{ created, flag }`); this reads it whichever it is. */
function putItem(result: { flag: Stored<Flag> } | { segment: Stored<Segment> }): Stored<Flag> | Stored<Segment> {
  return "flag" in result ? result.flag : result.segment;
}

/** The 404 of a missing item, shared with routes the caller adds (toggle). */
export function notFoundResponse<E extends EnvironmentEnv>(c: Context<E>, noun: string, key: string): Response {
  return apiError(c, 404, "NOT_FOUND", `${noun} "${key}" does not exist in environment "${c.get("environment")}"`);
}

/** `undefined` when no version was asked for: the store then writes unconditionally. */
export const expectedVersion = (ifMatch: ReturnType<typeof parseIfMatch>) =>
  ifMatch.kind === "version" ? ifMatch.version : undefined;

/**
 * Adds read-only fields to items answered by GET (flags: lifecycle status). Started before the
 * store read so both calls run at once; it resolves to the function applied to each item. `key`:
 * a GET of that one item, which needs that item's fields only (a list: every item's).
 */
export type Decorate = (c: Context<EnvironmentEnv>, key?: string) => Promise<<T extends { key: string }>(item: T) => T>;

/**
 * The URL names the key, so the body's own `key` is optional (checked against the URL here). The
 * body is validated once, by the store (FlagBody/SegmentBody in schemas.ts document it).
 */
export function versionedResource(
  noun: Noun,
  decorate?: Decorate,
  summarize?: (item: Stored<Flag>) => { key: string },
): Hono<EnvironmentEnv> {
  const methods = STORE_METHODS[noun];
  const app = new Hono<EnvironmentEnv>();
  const same =
    async () =>
    <T>(item: T) =>
      item;

  // `?view=summary`: one row per item, no definitions (the list of a resource whose plain list
  // already answers summaries, segments, answers the same either way).
  app.get("/", readAccess, async (c) => {
    const view = c.req.query("view");
    if (view !== undefined && view !== "summary" && view !== "full") {
      return invalid(c, [{ path: "view", message: 'must be "summary" or "full"' }], "query");
    }
    const decorating = (decorate ?? same)(c);
    const items = await c.var.store[methods.list]();
    if (!items.ok) return storeErrorResponse(c, items.error);
    const add = await decorating;
    const rows =
      view === "summary" && summarize
        ? (items.value as Stored<Flag>[]).map(summarize)
        : (items.value as { key: string }[]);
    return c.json({ [methods.plural]: rows.map(add) });
  });

  app.get("/:key", readAccess, async (c) => {
    const key = c.req.param("key");
    // A key the pattern refuses can never have been stored.
    if (!KEY_PATTERN.test(key)) return notFoundResponse(c, noun, key);
    const decorating = (decorate ?? same)(c, key);
    const item = await c.var.store[methods.get](key);
    if (!item.ok) {
      return item.error.code === "not_found" ? notFoundResponse(c, noun, key) : storeErrorResponse(c, item.error);
    }
    c.header("ETag", etag(item.value.version));
    return c.json((await decorating)(item.value));
  });

  app.put("/:key", writeAccess, jsonBody(undefined, methods.maxBytes), async (c) => {
    const key = c.req.param("key");
    if (!KEY_PATTERN.test(key))
      return invalid(c, [{ path: "key", message: "must match " + KEY_PATTERN.source }], `${noun} key in the URL`);
    const parsed = c.var.body;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return invalid(c, [{ path: "", message: `must be a JSON object (the ${noun})` }], "request body");
    }
    if ("key" in parsed && parsed.key !== key) {
      return invalid(
        c,
        [{ path: "key", message: `must equal the key in the URL ("${key}") or be omitted` }],
        "request body",
      );
    }
    const ifMatch = parseIfMatch(c.req.header("if-match"));
    if (ifMatch.kind === "list") return ifMatchListRefused(c);
    if (ifMatch.kind === "any") {
      // `If-Match: *` means "only if it exists" (RFC 9110 §13.1.1).
      const current = await c.var.store[methods.get](key);
      if (!current.ok && current.error.code !== "not_found") return storeErrorResponse(c, current.error);
      if (!current.ok) {
        return apiError(c, 412, "PRECONDITION_FAILED", `If-Match: * but ${noun} "${key}" does not exist`);
      }
    }
    const result = await c.var.store[methods.put]({ ...parsed, key }, c.var.actor, expectedVersion(ifMatch));
    if (!result.ok) return storeErrorResponse(c, result.error);
    const item = putItem(result.value);
    c.header("ETag", etag(item.version));
    return c.json(item, result.value.created ? 201 : 200);
  });

  app.delete("/:key", writeAccess, async (c) => {
    const key = c.req.param("key");
    if (!KEY_PATTERN.test(key)) return notFoundResponse(c, noun, key);
    const ifMatch = parseIfMatch(c.req.header("if-match"));
    if (ifMatch.kind === "list") return ifMatchListRefused(c);
    const result = await c.var.store[methods.delete](key, c.var.actor, expectedVersion(ifMatch));
    if (!result.ok) {
      return result.error.code === "not_found" ? notFoundResponse(c, noun, key) : storeErrorResponse(c, result.error);
    }
    return c.json({ deleted: key, version: result.value.version });
  });

  return app;
}
