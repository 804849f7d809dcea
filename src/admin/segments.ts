/**
 * Segments of one environment (reusable audiences that rules name with `{"segment": key}`):
 * the shared keyed-resource routes of versioned-resource.ts, `If-Match` as for flags, plus big
 * segments' keys (core/wire/big-segments.ts):
 *
 * | route | answers |
 * |---|---|
 * | `POST …/segments/{key}/keys` `{"add":[…],"remove":[…]}` (≤ 100,000 keys) | 200 `{version, segment, added, removed, count}` (one version), 202 held under an approval policy, 400, 404, 409, 413 |
 * | `GET …/segments/{key}/keys?after=&limit=` | 200 `{segment, count, keys, next?}` in key order |
 *
 * A GET of one segment answers its batch-added keys too, as `keys` (`keyCount` of them); past
 * 100,000 it answers the first 100,000 and `keysNext`, where the keys route continues.
 * @module
 */
import type { Context } from "hono";
import { KEY_PATTERN } from "../core/model";
import { MAX_BATCH_KEYS } from "../core/wire/big-segments";
import { KeyBatchBody } from "./schemas";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody, MAX_FLAGD_BYTES } from "./body";
import { invalid, storeErrorResponse } from "./errors";
import { notFoundResponse, versionedResource } from "./versioned-resource";

/** A GET of one segment carries its batch-added keys (first page) instead of where they are stored. */
async function withKeys(c: Context<EnvironmentEnv>, key?: string) {
  const page = key === undefined ? undefined : await c.var.store.segmentKeys(key);
  return <T extends { key: string }>(item: T): T => {
    const { bigKeys, ...rest } = item as T & { bigKeys?: unknown };
    if (!bigKeys) return item;
    if (!page?.ok) return rest as T;
    return {
      ...rest,
      keyCount: page.value.count,
      keys: page.value.keys,
      ...(page.value.next === undefined ? {} : { keysNext: page.value.next }),
    } as unknown as T;
  };
}

export const segmentsApp = versionedResource("segment", withKeys);

segmentsApp.post("/:key/keys", writeAccess, jsonBody(KeyBatchBody, MAX_FLAGD_BYTES), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFoundResponse(c, "segment", key);
  const batch = c.var.body;
  if (batch.add.length + batch.remove.length > MAX_BATCH_KEYS) {
    return invalid(
      c,
      [{ path: "", message: `at most ${MAX_BATCH_KEYS} keys per call (add and remove together)` }],
      "request body",
    );
  }
  if (batch.add.length + batch.remove.length === 0)
    return invalid(c, [{ path: "", message: "name at least one key to add or remove" }], "request body");
  const result = await c.var.store.changeSegmentKeys(key, batch, c.var.actor);
  if (!result.ok)
    return result.error.code === "not_found"
      ? notFoundResponse(c, "segment", key)
      : storeErrorResponse(c, result.error);
  return c.json(result.value);
});

segmentsApp.get("/:key/keys", readAccess, async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFoundResponse(c, "segment", key);
  const limit = c.req.query("limit");
  if (limit !== undefined && !/^[1-9]\d{0,5}$/.test(limit))
    return invalid(c, [{ path: "limit", message: "must be an integer from 1 to 100000" }], "query");
  const result = await c.var.store.segmentKeys(
    key,
    c.req.query("after"),
    limit === undefined ? undefined : Number(limit),
  );
  if (!result.ok)
    return result.error.code === "not_found"
      ? notFoundResponse(c, "segment", key)
      : storeErrorResponse(c, result.error);
  return c.json(result.value);
});
