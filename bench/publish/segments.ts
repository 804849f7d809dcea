/**
 * Big segments (`npm run bench:publish` imports this): the store's work to lay out a
 * 1,000,000-key segment in shards (ten batches of 100,000: hashing, bucketing, encoding and naming
 * every shard a batch changes), and membership at the edge once its shards are held, next to
 * today's in-memory Set of a segment's `included` keys. CPU in Node (the runtime freezes time
 * during synchronous work). KV and SQLite time are not in it.
 * @module
 */
import { encodeShard, shardCountFor, shardHash, shardIndex, type BigKeys } from "../../src/core/wire/big-segments";
import { BigSegmentShards } from "../../src/edge/big-segment-shards";

const KEYS = 1_000_000;
const BATCH = 100_000;
const LOOKUPS = 2_000_000;

export async function measure(): Promise<Record<string, number>> {
  const keys = Array.from(
    { length: KEYS },
    (_, i) => `user-${i.toString(36)}-${((i * 2654435761) >>> 0).toString(16)}`,
  );
  // Import: each batch re-encodes the shards it touches (all of them for random keys), as the store does.
  const start = performance.now();
  const buckets: string[][] = [];
  let shardCount = 0;
  let texts = new Map<string, string>();
  for (let b = 0; b < KEYS; b += BATCH) {
    const count = shardCountFor(b + BATCH, shardCount || undefined);
    if (count !== shardCount) {
      const all = buckets.flat();
      buckets.length = 0;
      for (let i = 0; i < count; i++) buckets.push([]);
      for (const k of all) buckets[shardIndex(shardHash(k), count)]!.push(k);
      shardCount = count;
    }
    for (let i = b; i < b + BATCH; i++) buckets[shardIndex(shardHash(keys[i]!), shardCount)]!.push(keys[i]!);
    texts = new Map(
      buckets.map((list) => {
        const s = encodeShard([...list]);
        return [s.name, s.text] as const;
      }),
    );
  }
  const importMs = performance.now() - start;
  const shardBytes = [...texts.values()].reduce((s, t) => s + t.length, 0) / texts.size;

  const big: BigKeys = { count: KEYS, shards: [...texts.keys()], version: 1 };
  const kv = { get: async (name: string) => texts.get(name.slice(name.lastIndexOf(":") + 1)) ?? null };
  const shards = new BigSegmentShards();
  const member = shards.lookup("bench")("vip", big);
  // Hold the shards the lookups touch (a warm isolate), then time the hot path alone.
  // (Probes from a quarter of the shards: an isolate holds at most MAX_HELD_KEYS, half of this segment.)
  const near = (k: string) => shardIndex(shardHash(k), shardCount) < shardCount / 4;
  const members = keys.filter(near);
  const strangers = Array.from({ length: 40_000 }, (_, i) => `stranger-${i}`).filter(near);
  const probes = Array.from({ length: 4096 }, (_, i) =>
    i % 2 ? members[(i * 7919) % members.length]! : strangers[i % strangers.length]!,
  );
  for (const p of probes) await shards.evaluateWithShards(kv, () => member(p));
  const set = new Set(keys);
  const time = (test: (k: string) => boolean) => {
    let hits = 0;
    const t0 = performance.now();
    for (let i = 0; i < LOOKUPS; i++) if (test(probes[i & 4095]!)) hits++;
    return { ns: ((performance.now() - t0) * 1e6) / LOOKUPS, hits };
  };
  time(member);
  time((k) => set.has(k));
  const held = time(member);
  const inMemory = time((k) => set.has(k));
  if (held.hits !== inMemory.hits) throw new Error(`membership differs: ${held.hits} vs ${inMemory.hits}`);
  return {
    segmentKeys: KEYS,
    importMs: Math.round(importMs),
    shards: texts.size,
    shardKiB: Math.round(shardBytes / 1024),
    membershipNs: Math.round(held.ns * 10) / 10,
    inMemorySetNs: Math.round(inMemory.ns * 10) / 10,
  };
}
