import type { EnvironmentStore } from "./store/environment-store";
import type { Registry } from "./store/registry";
import type { StreamRelay } from "./store/relay";

/** Worker bindings and vars (wrangler.toml, .dev.vars, secrets). */
export interface Env {
  ENV_STORE: DurableObjectNamespace<EnvironmentStore>;
  REGISTRY: DurableObjectNamespace<Registry>;
  /** Change-stream relay shards, `idFromName("<env>#<shard>")` (src/store/relay.ts). */
  STREAM_RELAY: DurableObjectNamespace<StreamRelay>;
  /** Relay shards per environment (1-256, default 16): the most sockets an environment's DO holds. */
  STREAM_RELAY_SHARDS?: string;
  FLAGS_KV: KVNamespace;
  ASSETS?: Fetcher;
  /** Bootstrap admin token; absent → every admin call is refused (fail closed). */
  ADMIN_TOKEN?: string;
  /** HMAC secret for change-stream URL tokens (a secret of its own); absent → no stream, clients poll. */
  STREAM_SECRET?: string;
  /** Older name of STREAM_SECRET, still read. */
  SSE_SECRET?: string;
  /** Seconds between stream heartbeats (which also re-check the stream's key and expiry). Default 25. */
  STREAM_HEARTBEAT_SECONDS?: string;
  /** Seconds over which the refetch events of a reconnect (resync) are spread per client; 0 = at once. Default 5. */
  STREAM_RESYNC_SPREAD_SECONDS?: string;
  SNAPSHOT_REFRESH_SECONDS?: string;
  RATE_LIMIT_PER_SECOND?: string;
  RATE_LIMIT_BURST?: string;
  /** Minimum ms between KV pointer writes (KV takes ~1 write/s per key); commits in between coalesce. Default 1000; local dev sets 0. */
  KV_POINTER_MIN_INTERVAL_MS?: string;
  /** Producer of the insights queue (usage summaries); absent → nothing is counted. */
  INSIGHTS_QUEUE?: Queue;
  /** "off" disables counting at the edge (benchmarks compare both). */
  INSIGHTS?: string;
  /** Seconds an isolate keeps counts before sending them; at most 10, default 10. */
  INSIGHTS_WINDOW_SECONDS?: string;
  /** Workers Analytics Engine dataset for per-request data points (production; a no-op locally). */
  EDGE_METRICS?: AnalyticsEngineDataset;
}
