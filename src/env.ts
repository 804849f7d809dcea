/**
 * Every binding and var of the Worker (wrangler.toml, .dev.vars, secrets): the union of what each
 * layer declares it needs. Only the entry files (src/index.ts, edge-worker.ts, store-worker.ts,
 * app.ts) use this; a layer types its `env` with its own bindings.
 * @module
 */
import type { AdminBindings } from "./admin/bindings";
import type { EdgeBindings } from "./edge/bindings";
import type { QueueBindings } from "./queue/bindings";
import type { StoreBindings } from "./store/bindings";

export type Env = EdgeBindings &
  AdminBindings &
  StoreBindings &
  QueueBindings & {
    /** The admin page and OpenAPI document (wrangler.toml [assets]). */
    ASSETS?: Fetcher;
  };
