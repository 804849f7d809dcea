/**
 * The deployed store script: the Durable Objects (single writers, SQLite) and the queue consumer
 * that feeds them (usage summaries, webhook deliveries). It answers no HTTP of its own: the edge
 * script reaches the objects through its bindings.
 * @module
 */
import type { Env } from "./env";
import { consumeQueue } from "./queue/consumer";

export { EnvironmentStore } from "./store/environment/environment-store";
export { Registry } from "./store/registry/registry";
export { StreamRelay } from "./store/relay/relay";
// Each webhook POST runs in an invocation of its own (queue/webhook-delivery.ts).
export { WebhookSender } from "./queue/webhook-sender";

export default {
  fetch: () =>
    Response.json(
      { error: { code: "NOT_FOUND", message: "the store script serves no HTTP; use the edgeflags Worker" } },
      { status: 404 },
    ),
  queue: consumeQueue,
} satisfies ExportedHandler<Env>;
