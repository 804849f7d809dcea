/**
 * Flags of one environment in the native model: the shared keyed-resource routes
 * (versioned-resource.ts) plus the one-call on/off switch, which needs no full definition.
 * @module
 */
import { flagSummary } from "../core/flag-summary";
import { KEY_PATTERN } from "../core/model";
import { writeAccess } from "./access";
import { jsonBody } from "./body";
import { storeErrorResponse } from "./errors";
import { etag, ifMatchListRefused, parseIfMatch } from "./etag";
import { withLifecycle } from "./insights";
import { ToggleBody } from "./schemas";
import { expectedVersion, notFoundResponse, versionedResource } from "./versioned-resource";

// GET answers carry the read-only `kind`, `status`, `stale` and `lastEvaluatedAt` (insights.ts);
// `GET /?view=summary` answers core/flag-summary.ts rows instead of definitions.
export const flagsApp = versionedResource("flag", withLifecycle, flagSummary);

flagsApp.post("/:key/toggle", writeAccess, jsonBody(ToggleBody), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return notFoundResponse(c, "flag", key);
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  if (ifMatch.kind === "list") return ifMatchListRefused(c);
  const { enabled } = c.var.body;
  const result = await c.var.store.setFlagEnabled(key, enabled, c.var.actor, expectedVersion(ifMatch));
  if (!result.ok) {
    return result.error.code === "not_found" ? notFoundResponse(c, "flag", key) : storeErrorResponse(c, result.error);
  }
  c.header("ETag", etag(result.value.flag.version));
  return c.json(result.value.flag);
});
