/**
 * A Workers KV namespace binding as the Workers SDK reads it: the same keys and the same KV
 * cache lifetimes as the edge (edge/snapshot-cache.ts, edge/sdk-keys.ts). Structural types, so
 * this layer needs neither the Workers type package nor a runtime: `env.FLAGS_KV` satisfies
 * {@link KvBinding}, a test's fake does too.
 * @module
 */
import { isMutableKey } from "../../core/wire/kv-layout";
import type { KvGet } from "../../core/wire/snapshot-reader";

/**
 * What the SDK needs of a KV namespace binding: `get` of one key, and of a list of up to 100 keys
 * as one KV operation (the binding's bulk read), so a cold read of a many-chunk snapshot stays
 * inside a Worker request's KV operation limit.
 */
export interface KvBinding {
  get(key: string, options: { type: "text"; cacheTtl?: number }): Promise<string | null>;
  get(keys: string[], options: { type: "text"; cacheTtl?: number }): Promise<Map<string, string | null>>;
}

/** KV's edge cache for values that change in place (the pointer, key records): the smallest KV accepts. */
export const MUTABLE_CACHE_TTL = 30;
/** For values written once under their own name (versioned snapshots): a day. */
export const IMMUTABLE_CACHE_TTL = 86_400;

/** Reads `key` as text with the cache lifetime its kind allows; null when absent. */
export function readText(kv: KvBinding, key: string, mutable = isMutableKey(key)): Promise<string | null> {
  return kv.get(key, { type: "text", cacheTtl: mutable ? MUTABLE_CACHE_TTL : IMMUTABLE_CACHE_TTL });
}

/**
 * The snapshot reader's KV (core/wire/snapshot-reader.ts) over a binding; JSON is parsed here.
 * Chunks are read in bulk (immutable keys, so the long cache lifetime), as the edge reads them.
 */
export function readerKv(kv: KvBinding): KvGet {
  return {
    async get(key, type) {
      const text = await readText(kv, key);
      return type === "json" && text !== null ? JSON.parse(text) : text;
    },
    getMany: (keys) => kv.get(keys, { type: "text", cacheTtl: IMMUTABLE_CACHE_TTL }),
  };
}
