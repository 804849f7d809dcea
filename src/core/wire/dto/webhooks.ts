/**
 * Webhook subscriptions as the store lists them and `…/webhooks` answers them (what they receive:
 * src/core/webhook-events.ts).
 * @module
 */
import * as z from "zod/mini";

export const WebhookInfo = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  createdAt: z.string(),
});
export type WebhookInfo = z.infer<typeof WebhookInfo>;

/** The answer to a create: the only one that carries the secret. */
export const CreatedWebhook = z.extend(z.omit(WebhookInfo, { createdAt: true }), {
  secret: z.string().check(z.describe("`whsec_` + base64 of the signing key; shown only in this answer.")),
});
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;
