/**
 * Big segments in the environment store: `POST …/segments/{key}/keys` batches and the key pages
 * (RPCs that EnvironmentStore delegates here). A batch is one version. Its shards are computed from
 * SQL and written to KV first (content-addressed, so an unreferenced one harms nothing), then the
 * version commits through the store's one `mutate` path with the segment's new {@link BigKeys}, so
 * the snapshot that names the shards is published only once they are in KV. Whatever changed the
 * segment between the two steps (another batch) makes the batch start again from the new state.
 * @module
 */
import type { BigKeys, Segment } from "../../core/model";
import {
  bigShardKey, encodeShard, MAX_SEGMENT_KEYS, shardCountFor, shardHash, shardIndex,
  type KeyBatch, type KeysChanged, type KeysPage,
} from "../../core/wire/big-segments";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import { approvalsRequired } from "../releases/change-requests";
import type { KvWriter } from "../publishing/publish";
import { conflict, done, invalid, notFound } from "../results";
import type { Sql } from "../sql";
import { currentMembers, pageKeys, shardKeys, writeBatch } from "./big-segments-repo";
import { segmentPlace, writeSegment } from "./segments-repo";
import type { ChangePlanner } from "./change";
import type { Meta } from "./meta-repo";

export interface BigSegmentsHost {
  sql: Sql;
  live(): StoreResult<Meta>;
  kv(): KvWriter;
  mutate<T>(actor: Actor, plan: ChangePlanner<T>): Promise<StoreResult<T>>;
  segment(key: string): Segment | undefined;
}

/** Tries of a batch that keeps meeting concurrent changes of its segment. */
const ATTEMPTS = 3;
export const MAX_PAGE_KEYS = 100_000;

interface BatchPlan {
  added: [string, number][];
  removed: string[];
  keys: Omit<BigKeys, "version">;
  shards: { name: string; text: string }[];
}

export class BigSegments {
  constructor(private readonly host: BigSegmentsHost) {}

  async change(key: string, batch: KeyBatch, actor: Actor): Promise<StoreResult<KeysChanged>> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const live = this.host.live();
      if (!live.ok) return live;
      // A held change request would have to carry the keys; batches are refused instead (docs/api.md).
      if (approvalsRequired(this.host.sql) > 0) return conflict("this environment requires approvals: big-segment key batches cannot be held as change requests; lower the policy to change keys in batches");
      const before = this.host.segment(key);
      if (!before) return notFound(`no segment "${key}"`);
      const plan = this.plan(key, before.bigKeys, batch);
      if (!plan.ok) return plan;
      const { added, removed, keys, shards } = plan.value;
      const kv = this.host.kv();
      await Promise.all(shards.map((s) => kv.put(bigShardKey(live.value.name, key, s.name), s.text)));
      let moved = false;
      const result = await this.host.mutate<KeysChanged>(actor, (current, meta) => {
        const now = current.segments.find((s) => s.key === key);
        if (!now) return notFound(`no segment "${key}"`);
        if (now.bigKeys?.version !== before.bigKeys?.version) {
          moved = true;
          return conflict("the segment's keys changed meanwhile");
        }
        // mutate runs synchronously from here to the commit: this is the version it writes.
        const version = meta.version + 1;
        const segment: Segment = { ...now, bigKeys: { ...keys, version } };
        return done({
          operation: "segment.keys", target: key,
          next: { ...current, segments: current.segments.map((s) => (s.key === key ? segment : s)) },
          write: (v) => {
            writeBatch(this.host.sql, key, added, removed, v);
            const place = segmentPlace(this.host.sql, key)!;
            writeSegment(this.host.sql, segment, place.position, v, place.keysVersion);
            return { segment: key, added: added.length, removed: removed.length, count: keys.count };
          },
          answer: (v) => ({ version: v, segment: key, added: added.length, removed: removed.length, count: keys.count }),
        });
      });
      if (!moved) return result;
    }
    return conflict(`the keys of segment "${key}" kept changing; try again`);
  }

  page(key: string, after: string | undefined, limit: number): StoreResult<KeysPage> {
    const live = this.host.live();
    if (!live.ok) return live;
    const segment = this.host.segment(key);
    if (!segment) return notFound(`no segment "${key}"`);
    const n = Math.max(1, Math.min(MAX_PAGE_KEYS, Math.floor(limit) || MAX_PAGE_KEYS));
    const keys = pageKeys(this.host.sql, key, after, n);
    const count = segment.bigKeys?.count ?? 0;
    return done({ segment: key, count, keys, ...(keys.length === n ? { next: keys[n - 1] } : {}) });
  }

  /** The rows and shards a batch changes, computed from the current keys; nothing is written. */
  private plan(key: string, current: BigKeys | undefined, batch: KeyBatch): StoreResult<BatchPlan> {
    const sql = this.host.sql;
    const remove = new Set(batch.remove);
    const both = batch.add.find((k) => remove.has(k));
    if (both !== undefined) return invalid([{ path: "remove", message: `${JSON.stringify(both)} is both added and removed` }]);
    const named = [...new Set(batch.add), ...remove];
    const members = currentMembers(sql, key, named);
    const added = [...new Set(batch.add)].filter((k) => !members.has(k)).map((k): [string, number] => [k, shardHash(k)]);
    const removed = [...remove].filter((k) => members.has(k));
    const count = (current?.count ?? 0) + added.length - removed.length;
    if (count > MAX_SEGMENT_KEYS) {
      return invalid([{ path: "add", message: `the segment would hold ${count} keys; at most ${MAX_SEGMENT_KEYS} are allowed` }]);
    }
    const shardCount = shardCountFor(count, current?.shards.length);
    const gone = new Set(removed);
    const joining = new Map<number, string[]>();
    for (const [k, h] of added) {
      const i = shardIndex(h, shardCount);
      const list = joining.get(i);
      if (list) list.push(k);
      else joining.set(i, [k]);
    }
    // The keys of each shard that changes: with the same layout, the shards a changed key falls
    // in; with a new shard count every key moves, so every old shard is read once and laid out anew.
    const changed = new Map<number, string[]>();
    if (shardCount === current?.shards.length) {
      for (const k of [...joining.keys(), ...removed.map((r) => shardIndex(shardHash(r), shardCount))]) {
        if (!changed.has(k)) changed.set(k, shardKeys(sql, key, k, shardCount).filter((m) => !gone.has(m)));
      }
    } else {
      for (let i = 0; i < shardCount; i++) changed.set(i, []);
      const old = current?.shards.length ?? 0;
      for (let i = 0; i < old; i++) for (const k of shardKeys(sql, key, i, old)) if (!gone.has(k)) changed.get(shardIndex(shardHash(k), shardCount))!.push(k);
    }
    const names = shardCount === current?.shards.length ? [...current.shards] : new Array<string>(shardCount).fill("");
    const shards: { name: string; text: string }[] = [];
    for (const [i, keys] of changed) {
      keys.push(...(joining.get(i) ?? []));
      const shard = encodeShard(keys);
      names[i] = shard.name;
      if (shard.name !== "") shards.push(shard);
    }
    return done({ added, removed, keys: { count, shards: names }, shards });
  }
}
