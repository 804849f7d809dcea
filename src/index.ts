/**
 * edgeflags as one script (wrangler.toml: `npm start`, the tests): the HTTP app, the Durable
 * Objects and the queue consumer together. `npm run deploy` ships the same code as two scripts
 * instead (src/edge-worker.ts and src/store-worker.ts; see scripts/deploy.mjs).
 * @module
 */
import type { Env } from "./env";
import { app } from "./app";
import { consumeQueue } from "./queue/consumer";

export { EnvironmentStore, Registry, StreamRelay, WebhookSender } from "./store-worker";

export default {
  fetch: app.fetch,
  queue: consumeQueue,
} satisfies ExportedHandler<Env>;
