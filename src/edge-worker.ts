/**
 * The deployed edge script: the HTTP app only. Its Durable Object bindings name the store script
 * (`script_name`, written by scripts/deploy.mjs), so none of their code is in this bundle.
 * @module
 */
import type { Env } from "./env";
import { app } from "./app";

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
