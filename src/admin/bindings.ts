/**
 * What the admin routes may touch: the Durable Objects, seen through core/wire's RPC interfaces
 * (admin/stores.ts casts the stubs), never their classes. src/env.ts joins every layer's bindings.
 * @module
 */
export interface AdminBindings {
  ENV_STORE: DurableObjectNamespace;
  REGISTRY: DurableObjectNamespace;
  /** Read for `…/streams` (each relay shard's stats). */
  STREAM_RELAY: DurableObjectNamespace;
  STREAM_RELAY_SHARDS?: string;
  /** Bootstrap admin token; absent → every admin call is refused (fail closed). */
  ADMIN_TOKEN?: string;
}
