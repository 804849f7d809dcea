/**
 * The WebhookSender entrypoint: one webhook POST per call, each call an invocation of its own, so
 * a connection failure that workerd charges to the invoking request (see webhook-delivery.ts)
 * ends this call only, never the queue batch that asked for it. Exported by every script that
 * runs the queue consumer (src/index.ts, src/store-worker.ts); reached through the loopback
 * binding `exports.WebhookSender`, not routed from outside.
 * @module
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { QueueBindings as Env } from "./bindings";
import type { WebhookMessage } from "../core/wire/queue-messages";
import { attemptDelivery, type AttemptOutcome, type WebhookTarget } from "./webhook-delivery";

export class WebhookSender extends WorkerEntrypoint<Env> {
  attempt(m: WebhookMessage, target: WebhookTarget): Promise<AttemptOutcome> {
    return attemptDelivery(m, target, (request) => fetch(request));
  }
}
