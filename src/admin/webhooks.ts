/**
 * Webhooks of one environment (docs/api.md "Webhooks"): create (the secret is shown only in that
 * answer), list (no secret), delete. What they receive and how it is signed and retried:
 * src/store/webhooks/webhooks.ts and src/queue/webhook-delivery.ts.
 * @module
 */
import { Hono } from "hono";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { storeErrorResponse } from "./errors";
import { WebhookBody } from "./schemas";

export const webhooksApp = new Hono<EnvironmentEnv>();

webhooksApp.post("/", writeAccess, jsonBody(WebhookBody), async (c) => {
  const created = await c.var.store.createWebhook(c.var.body, c.var.actor);
  if (!created.ok) return storeErrorResponse(c, created.error);
  const { id, url, events, secret } = created.value;
  // The only time the secret leaves the store: keep it out of caches.
  c.header("Cache-Control", "no-store");
  return c.json({ id, url, events, secret }, 201);
});

webhooksApp.get("/", readAccess, async (c) => {
  const hooks = await c.var.store.listWebhooks();
  if (!hooks.ok) return storeErrorResponse(c, hooks.error);
  return c.json({ webhooks: hooks.value });
});

webhooksApp.delete("/:id", writeAccess, async (c) => {
  const id = c.req.param("id");
  const removed = await c.var.store.deleteWebhook(id);
  if (!removed.ok) return storeErrorResponse(c, removed.error);
  return c.json({ id, deleted: true });
});
