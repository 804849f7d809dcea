/**
 * SDK keys of one environment: mint (the key is shown only in that answer; the store keeps its
 * hash), list (id, prefix, kind, dates) and revoke.
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { apiError, storeErrorResponse } from "./errors";
import { MintKeyBody } from "./schemas";

export const keysApp = new Hono<EnvironmentEnv>();

keysApp.post("/", writeAccess, jsonBody(MintKeyBody), async (c) => {
  const answer = await c.var.store.mintKey(c.var.body.kind, c.var.actor);
  if (!answer.ok) return storeErrorResponse(c, answer.error);
  const minted = answer.value;
  // The only time the key exists in clear outside the caller: keep it out of caches.
  c.header("Cache-Control", "no-store");
  return c.json({ id: minted.id, kind: minted.kind, key: minted.key }, 201);
});

keysApp.get("/", readAccess, async (c) => {
  const keys = await c.var.store.listKeys();
  if (!keys.ok) return storeErrorResponse(c, keys.error);
  return c.json({ keys: keys.value });
});

keysApp.delete("/:id", writeAccess, async (c) => {
  const id = c.req.param("id");
  const result = await c.var.store.revokeKey(id, c.var.actor);
  if (!result.ok) return storeErrorResponse(c, result.error);
  if (!result.value.revoked)
    return apiError(c, 404, "NOT_FOUND", `no active SDK key "${id}" in environment "${c.var.environment}"`);
  return c.json({ id, revoked: true });
});
