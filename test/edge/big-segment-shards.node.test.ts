import { describe, expect, it } from "vitest";
import { BigSegmentShards, MAX_HELD_KEYS } from "../../src/edge/big-segment-shards";
import {
  bigShardKey,
  encodeShard,
  shardCountFor,
  shardHash,
  shardIndex,
  type BigKeys,
} from "../../src/core/wire/big-segments";

/** A segment's shards as the store lays them out, in a fake KV that counts reads and can fail. */
function segmentIn(kv: Map<string, string>, env: string, segment: string, keys: string[], version = 1): BigKeys {
  const count = shardCountFor(keys.length);
  const buckets: string[][] = Array.from({ length: count }, () => []);
  for (const k of keys) buckets[shardIndex(shardHash(k), count)]!.push(k);
  const shards = buckets.map((b) => {
    const s = encodeShard(b);
    if (s.name) kv.set(bigShardKey(env, segment, s.name), s.text);
    return s.name;
  });
  return { count: keys.length, shards, version };
}

function countingKv(kv: Map<string, string>) {
  const reads: string[] = [];
  let failing = false;
  return {
    reads,
    fail(on: boolean) {
      failing = on;
    },
    get: async (name: string) => {
      reads.push(name);
      if (failing) throw new Error("KV down");
      return kv.get(name) ?? null;
    },
  };
}

const users = (n: number, p = "u") => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe("big segment shards at the edge", () => {
  it("reads one shard per cold shard, none once held, and answers membership from it", async () => {
    const kv = new Map<string, string>();
    const keys = segmentIn(kv, "prod", "vip", users(50_000));
    expect(keys.shards.length).toBe(16);
    const store = new BigSegmentShards();
    const member = store.lookup("prod")("vip", keys);
    const reader = countingKv(kv);
    expect(await store.evaluateWithShards(reader, () => member("u42"))).toBe(true);
    expect(reader.reads).toHaveLength(1);
    expect(await store.evaluateWithShards(reader, () => member("u42"))).toBe(true);
    expect(await store.evaluateWithShards(reader, () => member("nobody"))).toBe(false);
    const before = reader.reads.length;
    // Every other shard: one read each, at most.
    for (const k of users(2_000)) expect(await store.evaluateWithShards(reader, () => member(k))).toBe(true);
    expect(reader.reads.length - before).toBeLessThanOrEqual(16);
    const settled = reader.reads.length;
    for (const k of users(2_000)) await store.evaluateWithShards(reader, () => member(k));
    expect(reader.reads.length).toBe(settled);
  });

  it("keeps answering from the last shard held when the new version's shard cannot be read", async () => {
    const kv = new Map<string, string>();
    const store = new BigSegmentShards();
    const v1 = store.lookup("prod")("vip", segmentIn(kv, "prod", "vip", ["alice", "bob"], 1));
    const reader = countingKv(kv);
    expect(await store.evaluateWithShards(reader, () => v1("alice"))).toBe(true);
    const v2 = store.lookup("prod")("vip", segmentIn(kv, "prod", "vip", ["alice", "bob", "carol"], 2));
    reader.fail(true);
    expect(await store.evaluateWithShards(reader, () => v2("alice"))).toBe(true);
    expect(await store.evaluateWithShards(reader, () => v2("carol"))).toBe(false);
    const failedReads = reader.reads.length;
    // A failed shard is not asked for again within the retry interval: no read per request.
    await store.evaluateWithShards(reader, () => v2("alice"));
    expect(reader.reads.length).toBe(failedReads);
  });

  it("holds at most MAX_HELD_KEYS keys, the least recently read shard going first", async () => {
    const kv = new Map<string, string>();
    const store = new BigSegmentShards();
    const big = segmentIn(kv, "prod", "all", users(MAX_HELD_KEYS + 200_000));
    const member = store.lookup("prod")("all", big);
    const reader = countingKv(kv);
    for (let i = 0; i < MAX_HELD_KEYS + 200_000; i += 997)
      await store.evaluateWithShards(reader, () => member(`u${i}`));
    const held = (store as unknown as { heldKeys: number }).heldKeys;
    expect(held).toBeLessThanOrEqual(MAX_HELD_KEYS);
    expect(held).toBeGreaterThan(0);
  });
});
