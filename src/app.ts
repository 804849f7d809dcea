/**
 * The HTTP app every request meets: health, OFREP evaluation and SDK snapshot (edge), admin API.
 * The admin web page and the OpenAPI document (admin/openapi.json, written by scripts/openapi.ts)
 * are static assets served from admin/ (wrangler.toml [assets]), not by this code.
 *
 * Two ways to run it: src/index.ts, one script with the Durable Objects and the queue consumer
 * (`npm start`, the tests); and, deployed, src/edge-worker.ts (this app only, so the bundle every
 * cold edge isolate loads carries no Durable Object code) beside src/store-worker.ts.
 * @module
 */
import { Hono } from "hono";
import type { Env } from "./env";
import { edgeApp } from "./edge/routes";
import { adminApp } from "./admin/routes";
import { insights } from "./edge/insights/hooks";

export const app = new Hono<{ Bindings: Env }>();

// The floor load tests compare against: no auth, no storage read.
app.get("/healthz", () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }));
app.use("/ofrep/*", insights());
app.use("/sdk/*", insights());
app.route("/", edgeApp);
app.route("/admin/v1", adminApp);

app.notFound((c) =>
  c.json({ error: { code: "NOT_FOUND", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404),
);
app.onError((err, c) => {
  console.error(err);
  return c.json({ error: { code: "INTERNAL", message: "internal error" } }, 500);
});
