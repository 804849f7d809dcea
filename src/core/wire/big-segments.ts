/**
 * Big segments: a segment's keys added in batches (`POST …/segments/{key}/keys`, up to
 * {@link MAX_SEGMENT_KEYS}) live apart from the snapshot, sharded by key hash in KV. The snapshot's
 * segment carries only {@link BigKeys}: the count and the name of every shard, each name the hash
 * of the shard's bytes. A version is atomic because a snapshot names exactly the shards of that
 * version and shards are immutable (content-addressed, written before the snapshot that names
 * them). A membership test reads one shard: `shards[shardIndex(shardHash(key), shards.length)]`.
 * Pure data and naming; the store writes shards (store/environment/big-segments.ts), the edge
 * reads them (edge/big-segment-shards.ts).
 * @module
 */
import type { BigKeys } from "../model";
import { hash64 } from "../canonical";
import type { Actor, StoreResult } from "./store-rpc";

export type { BigKeys };

/** Keys one `POST …/keys` call may name (add and remove together). */
export const MAX_BATCH_KEYS = 100_000;
/** Keys a segment may hold through batches. */
export const MAX_SEGMENT_KEYS = 1_000_000;
/** Characters per key (a targeting key). */
export const MAX_BIG_KEY_LENGTH = 1024;
/** Keys aimed at per shard: a shard of 1,000,000 keys / 256 ≈ 80 KB of JSON, one KV read. */
export const KEYS_PER_SHARD = 4096;
export const MAX_SHARDS = 256;
/** A shard with no keys: named by this, never stored or read. */
export const EMPTY_SHARD = "";

/** A key's 32-bit FNV-1a hash over UTF-16 units (unsigned): cheap on the hot path, same everywhere. */
export function shardHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The shard of a hash among `count` shards (a power of two): its top bits, so a shard is one hash range. */
export function shardIndex(hash: number, count: number): number {
  return count <= 1 ? 0 : Math.floor(hash / (0x1_0000_0000 / count));
}

/** The hash range `[from, to)` of shard `index` of `count`. */
export function shardRange(index: number, count: number): [number, number] {
  const size = 0x1_0000_0000 / count;
  return [index * size, (index + 1) * size];
}

/**
 * Shards for `keys` keys: a power of two, about {@link KEYS_PER_SHARD} keys each. `current` (the
 * count in use) is kept until the count leaves [a quarter, double] of its aim, so a segment
 * hovering around a boundary does not reshard (rewrite every shard) on every batch.
 */
export function shardCountFor(keys: number, current?: number): number {
  let aim = 1;
  while (aim < MAX_SHARDS && aim * KEYS_PER_SHARD < keys) aim *= 2;
  if (current !== undefined && current >= aim / 2 && current <= aim * 4 && current * KEYS_PER_SHARD * 2 >= keys)
    return current;
  return aim;
}

/** A shard's bytes: its keys sorted, as a JSON array; and its name. */
export function encodeShard(keys: string[]): { name: string; text: string } {
  if (keys.length === 0) return { name: EMPTY_SHARD, text: "[]" };
  const text = JSON.stringify(keys.sort());
  return { name: hash64(text), text };
}

/** A shard's keys, or undefined when the text is not a shard. */
export function parseShard(text: string): string[] | undefined {
  try {
    const keys = JSON.parse(text) as unknown;
    return Array.isArray(keys) && keys.every((k) => typeof k === "string") ? keys : undefined;
  } catch {
    return undefined;
  }
}

/** `bigseg:<env>:<segment>:<shard name>`: immutable, so readers cache it as long as KV allows. */
export const bigShardKey = (environment: string, segment: string, name: string) =>
  `bigseg:${environment}:${segment}:${name}`;

/**
 * Membership in a big segment's keys, as the engine asks it (synchronously): built once per
 * compiled segment from the snapshot's {@link BigKeys}; the edge answers from shards it holds.
 */
export type BigKeyLookup = (segment: string, keys: BigKeys) => (targetingKey: string) => boolean;

/** A `POST …/keys` body once validated (admin/segments.ts checks the shape and the bounds). */
export interface KeyBatch {
  add: string[];
  remove: string[];
}

/** What a batch did: counts only (the audit row holds the same, never the keys). */
export interface KeysChanged {
  version: number;
  segment: string;
  /** Keys that became members (named but already members are not counted). */
  added: number;
  /** Keys that stopped being members. */
  removed: number;
  /** Keys held through batches now. */
  count: number;
}

/** One page of a big segment's keys, in key order; `next` is the `after` of the next page (absent: the last). */
export interface KeysPage {
  segment: string;
  count: number;
  keys: string[];
  next?: string;
}

/** The store's big-segment RPCs (part of EnvironmentStoreApi). */
export interface BigSegmentsApi {
  /** One version: keys added and removed in one batch (not_found: no such segment; invalid: over the limits). */
  changeSegmentKeys(key: string, batch: KeyBatch, actor: Actor): Promise<StoreResult<KeysChanged>>;
  /** The keys after `after`, in key order, at most `limit` (default and cap 100,000). */
  segmentKeys(key: string, after?: string, limit?: number): Promise<StoreResult<KeysPage>>;
}
