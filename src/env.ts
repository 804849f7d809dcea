import type { EnvironmentStore } from "./store/environment-store";
import type { Registry } from "./store/registry";

/** Worker bindings and vars (wrangler.toml, .dev.vars, secrets). */
export interface Env {
  ENV_STORE: DurableObjectNamespace<EnvironmentStore>;
  REGISTRY: DurableObjectNamespace<Registry>;
  FLAGS_KV: KVNamespace;
  ASSETS?: Fetcher;
  /** Bootstrap admin token; absent → every admin call is refused (fail closed). */
  ADMIN_TOKEN?: string;
  /** HMAC secret for change-stream URL tokens; falls back to ADMIN_TOKEN. */
  SSE_SECRET?: string;
  SNAPSHOT_REFRESH_SECONDS?: string;
  RATE_LIMIT_PER_SECOND?: string;
  RATE_LIMIT_BURST?: string;
}
