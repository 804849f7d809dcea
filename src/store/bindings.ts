/**
 * What the Durable Objects may touch: KV (they publish to it), each other (a relay shard dials its
 * environment's store), the queue (webhook deliveries). src/env.ts joins every layer's bindings.
 * @module
 */
export interface StoreBindings {
  FLAGS_KV: KVNamespace;
  ENV_STORE: DurableObjectNamespace;
  STREAM_RELAY: DurableObjectNamespace;
  STREAM_RELAY_SHARDS?: string;
  STREAM_HEARTBEAT_SECONDS?: string;
  STREAM_RESYNC_SPREAD_SECONDS?: string;
  /** Minimum ms between KV pointer writes (KV takes ~1 write/s per key); commits in between coalesce. Default 1000; local dev sets 0. */
  KV_POINTER_MIN_INTERVAL_MS?: string;
  /** Seconds usage summaries are merged before they are written (usage-buffer.ts). Default 60; local dev sets 1. */
  USAGE_FLUSH_SECONDS?: string;
  /** The queue webhook deliveries go through (the same queue as the edge's usage summaries). */
  INSIGHTS_QUEUE?: Queue;
}
