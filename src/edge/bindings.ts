/**
 * What the hot read path may touch: KV (snapshots, key records), the relay shards (change
 * stream), the usage queue. No store binding: the edge never calls an environment's Durable
 * Object. wrangler.toml, .dev.vars and secrets fill these; src/env.ts joins every layer's.
 * @module
 */
export interface EdgeBindings {
  FLAGS_KV: KVNamespace;
  /** Change-stream relay shards, `idFromName("<env>#<shard>")` (core/wire/stream-protocol.ts). */
  STREAM_RELAY: DurableObjectNamespace;
  /** Relay shards per environment (1-256, default 16): the most sockets an environment's DO holds. */
  STREAM_RELAY_SHARDS?: string;
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
  /** Producer of the queue the edge's usage summaries go to (it carries webhook deliveries too; the name stays for deployed configs); absent → nothing is counted. */
  INSIGHTS_QUEUE?: Queue;
  /** "off" disables counting at the edge (benchmarks compare both). */
  INSIGHTS?: string;
  /** Seconds an isolate keeps counts before sending them; at most 10, default 10. */
  INSIGHTS_WINDOW_SECONDS?: string;
  /** Workers Analytics Engine dataset for per-request data points (production; a no-op locally). */
  EDGE_METRICS?: AnalyticsEngineDataset;
}
