/**
 * Big segments in the environment store: `POST …/segments/{key}/keys` batches and the key pages
 * (RPCs that EnvironmentStore delegates here). A batch is one version. Its shards are computed from
 * SQL and written to KV first (content-addressed, so an unreferenced one harms nothing), then the
 * version commits through the store's one `mutate` path with the segment's new {@link BigKeys}, so
 * the snapshot that names the shards is published only once they are in KV. Whatever changed the
 * segment between the two steps (another batch) makes the batch start again from the new state.
 * Under an approval policy a batch is held as a change request (releases/approval-gate.ts
 * `holdKeyBatch`, its keys kept beside it) and applied the same way once approved.
 * @module
 */
import type { BigKeys, Segment } from "../../core/model";
import {
  bigShardKey,
  encodeShard,
  MAX_SEGMENT_KEYS,
  shardCountFor,
  shardHash,
  shardIndex,
  type KeyBatch,
  type KeysChanged,
  type KeysPage,
} from "../../core/wire/big-segments";
import type { Actor, StoreFailure, StoreResult } from "../../core/wire/store-rpc";
import { approvalsRequired, holdKeyBatch } from "../releases/approval-gate";
import { readHeldKeys } from "../releases/held-keys-repo";
import type { KvWriter } from "../publishing/publish";
import { conflict, success, invalid, notFound } from "../results";
import type { Sql } from "../sql";
import { currentMembers, pageKeys, shardKeys, writeBatch } from "./big-segments-repo";
import { segmentPlace, writeSegment } from "./segments-repo";
import type { ChangePlanner, Gate } from "./change";
import type { Meta } from "./meta-repo";

export interface BigSegmentsHost {
  sql: Sql;
  transaction(fn: () => void): void;
  live(): StoreResult<Meta>;
  kv(): KvWriter;
  mutate<T>(actor: Actor, plan: ChangePlanner<T>, gate: Gate): Promise<StoreResult<T>>;
  segment(key: string): Segment | undefined;
}

/** Tries of a batch that keeps meeting concurrent changes of its segment. */
const ATTEMPTS = 3;
export const MAX_PAGE_KEYS = 100_000;

/** What a batch does to the current keys: the keys (with their hashes) that join, those that leave, the count after. */
interface BatchEffect {
  added: [string, number][];
  removed: string[];
  count: number;
}

interface BatchPlan extends BatchEffect {
  keys: Omit<BigKeys, "version">;
  shards: { name: string; text: string }[];
}

export class BigSegments {
  constructor(private readonly host: BigSegmentsHost) {}

  /** A batch from the admin route: under an approval policy held as a change request, else applied. */
  async change(key: string, batch: KeyBatch, actor: Actor): Promise<StoreResult<KeysChanged>> {
    return this.apply(key, batch, actor);
  }

  /** The batch change request `request` held, applied as its creator once approved (its segment unchanged since, as the request checked). */
  async applyHeld(key: string, request: string, actor: Actor): Promise<StoreResult<KeysChanged>> {
    return this.apply(key, readHeldKeys(this.host.sql, request), actor, request);
  }

  /** `held`: the change request applying it, which already passed the gate and conflicts on any change of the segment. */
  private async apply(key: string, batch: KeyBatch, actor: Actor, held?: string): Promise<StoreResult<KeysChanged>> {
    const sql = this.host.sql;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const live = this.host.live();
      if (!live.ok) return live;
      const before = this.host.segment(key);
      if (!before) return notFound(`no segment "${key}"`);
      const required = held === undefined ? approvalsRequired(sql) : 0;
      if (required > 0) return this.hold(key, before, batch, actor, live.value, required);
      const base = segmentPlace(sql, key)!.version;
      const plan = this.plan(key, before.bigKeys, batch);
      if (!plan.ok) return plan;
      const { added, removed, keys, shards } = plan.value;
      const kv = this.host.kv();
      await Promise.all(shards.map((s) => kv.put(bigShardKey(live.value.name, key, s.name), s.text)));
      let moved = false;
      // The gate is checked here, inside the commit: a policy set during the KV writes makes the batch start again (and be held).
      const result = await this.host.mutate<KeysChanged>(
        actor,
        (current, meta) => {
          const now = current.segments.find((s) => s.key === key);
          if (!now) return notFound(`no segment "${key}"`);
          if (held !== undefined && segmentPlace(sql, key)?.version !== base)
            return conflict(`segment "${key}" changed since the change request was made`);
          if (held === undefined && (now.bigKeys?.version !== before.bigKeys?.version || approvalsRequired(sql) > 0)) {
            moved = true;
            return conflict("the segment's keys changed meanwhile");
          }
          // mutate runs synchronously from here to the commit: this is the version it writes.
          const version = meta.version + 1;
          const segment: Segment = { ...now, bigKeys: { ...keys, version } };
          const counts = { segment: key, added: added.length, removed: removed.length, count: keys.count };
          return success({
            operation: "segment.keys",
            target: key,
            next: { ...current, segments: current.segments.map((s) => (s.key === key ? segment : s)) },
            write: (v) => {
              writeBatch(sql, key, added, removed, v);
              const place = segmentPlace(sql, key)!;
              writeSegment(sql, segment, place.position, v, place.keysVersion);
              return held === undefined ? counts : { ...counts, changeRequest: held };
            },
            answer: (v) => ({ version: v, ...counts }),
          });
        },
        "approved",
      );
      if (!moved) return result;
    }
    return conflict(`the keys of segment "${key}" kept changing; try again`);
  }

  /** A checked batch kept as a pending change request of `required` approvals; nothing else changes. */
  private hold(
    key: string,
    before: Segment,
    batch: KeyBatch,
    actor: Actor,
    meta: Meta,
    required: number,
  ): StoreFailure {
    const sql = this.host.sql;
    const effect = this.effect(key, before.bigKeys, batch);
    if (!effect.ok) return effect;
    const { added, removed, count } = effect.value;
    const keys = { add: added.map(([k]) => k), remove: removed };
    let held: StoreFailure | undefined;
    this.host.transaction(() => {
      held = holdKeyBatch(
        sql,
        actor,
        meta,
        { segment: key, base: segmentPlace(sql, key)!.version, keys, before: before.bigKeys?.count ?? 0, count },
        required,
      );
    });
    return held!;
  }

  page(key: string, after: string | undefined, limit: number): StoreResult<KeysPage> {
    const live = this.host.live();
    if (!live.ok) return live;
    const segment = this.host.segment(key);
    if (!segment) return notFound(`no segment "${key}"`);
    const n = Math.max(1, Math.min(MAX_PAGE_KEYS, Math.floor(limit) || MAX_PAGE_KEYS));
    const keys = pageKeys(this.host.sql, key, after, n);
    const count = segment.bigKeys?.count ?? 0;
    return success({ segment: key, count, keys, ...(keys.length === n ? { next: keys[n - 1] } : {}) });
  }

  /** What a batch does to the current keys, checked against the limits; nothing is written. */
  private effect(key: string, current: BigKeys | undefined, batch: KeyBatch): StoreResult<BatchEffect> {
    const remove = new Set(batch.remove);
    const both = batch.add.find((k) => remove.has(k));
    if (both !== undefined)
      return invalid([{ path: "remove", message: `${JSON.stringify(both)} is both added and removed` }]);
    const named = [...new Set(batch.add), ...remove];
    const members = currentMembers(this.host.sql, key, named);
    const added = [...new Set(batch.add)]
      .filter((k) => !members.has(k))
      .map((k): [string, number] => [k, shardHash(k)]);
    const removed = [...remove].filter((k) => members.has(k));
    const count = (current?.count ?? 0) + added.length - removed.length;
    if (count > MAX_SEGMENT_KEYS) {
      return invalid([
        { path: "add", message: `the segment would hold ${count} keys; at most ${MAX_SEGMENT_KEYS} are allowed` },
      ]);
    }
    return success({ added, removed, count });
  }

  /** The rows and shards a batch changes, computed from the current keys; nothing is written. */
  private plan(key: string, current: BigKeys | undefined, batch: KeyBatch): StoreResult<BatchPlan> {
    const sql = this.host.sql;
    const effect = this.effect(key, current, batch);
    if (!effect.ok) return effect;
    const { added, removed, count } = effect.value;
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
        if (!changed.has(k))
          changed.set(
            k,
            shardKeys(sql, key, k, shardCount).filter((m) => !gone.has(m)),
          );
      }
    } else {
      for (let i = 0; i < shardCount; i++) changed.set(i, []);
      const old = current?.shards.length ?? 0;
      for (let i = 0; i < old; i++)
        for (const k of shardKeys(sql, key, i, old))
          if (!gone.has(k)) changed.get(shardIndex(shardHash(k), shardCount))!.push(k);
    }
    const names = shardCount === current?.shards.length ? [...current.shards] : new Array<string>(shardCount).fill("");
    const shards: { name: string; text: string }[] = [];
    for (const [i, keys] of changed) {
      keys.push(...(joining.get(i) ?? []));
      const shard = encodeShard(keys);
      names[i] = shard.name;
      if (shard.name !== "") shards.push(shard);
    }
    return success({ added, removed, count, keys: { count, shards: names }, shards });
  }
}
