/**
 * The Worker: health, OFREP evaluation and SDK snapshot (edge), admin API. The admin web page and
 * the OpenAPI document (admin/openapi.json, written by scripts/openapi.ts) are static assets served
 * from admin/ (wrangler.toml [assets]), not by this code.
 * @module
 */
import { Hono } from "hono";
import type { Env } from "./env";
import { edgeApp } from "./edge/routes";
import { adminApp } from "./admin/routes";
import { insights } from "./edge/insights/hooks";
import { consumeQueue } from "./queue/consumer";

export { EnvironmentStore } from "./store/environment-store";
export { Registry } from "./store/registry";
export { StreamRelay } from "./store/relay";

const app = new Hono<{ Bindings: Env }>();

// The floor load tests compare against: no auth, no storage read.
app.get("/healthz", () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }));
app.use("/ofrep/*", insights());
app.use("/sdk/*", insights());
app.route("/", edgeApp);
app.route("/admin/v1", adminApp);

app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));
app.onError((err, c) => {
  console.error(err);
  return c.json({ error: { code: "INTERNAL", message: "internal error" } }, 500);
});

export default {
  fetch: app.fetch,
  queue: consumeQueue,
} satisfies ExportedHandler<Env>;
