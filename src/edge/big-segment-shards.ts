/**
 * Big segments' key shards held in isolate memory (core/wire/big-segments.ts). Evaluation is
 * synchronous, so a shard cannot be read in the middle of it: a membership test on a shard not
 * held answers from the last shard held for that place (last known good) or "not a member", and
 * names the shard it wanted. {@link evaluateWithShards} then reads those shards (one KV read per
 * cold shard, in parallel) and evaluates again; with every shard held it evaluates once and reads
 * nothing. A held shard answers with one hash and two Map/Set lookups.
 * @module
 */
import {
  bigShardKey,
  EMPTY_SHARD,
  parseShard,
  shardHash,
  shardIndex,
  type BigKeyLookup,
} from "../core/wire/big-segments";
import { withTimeout } from "../core/timeout";

/** The part of KV shards are read through (the namespace, or a fake in tests and the bench). */
export interface ShardReader {
  get(key: string, options: { type: "text"; cacheTtl: number }): Promise<string | null>;
}

/** Keys held across all shards; the least recently read shard goes first past it (~40 MB of strings). */
export const MAX_HELD_KEYS = 500_000;
/** Shards are immutable: KV may cache them at the edge as long as it likes. */
const SHARD_CACHE_TTL = 86_400;
const KV_TIMEOUT_MS = 1_000;
/** A shard that could not be read is asked for again after this. */
const RETRY_MS = 1_000;
/** Rounds of read-then-evaluate: a shard read can lead evaluation to another segment. */
const MAX_ROUNDS = 4;

export class BigSegmentShards {
  private readonly held = new Map<string, ReadonlySet<string>>();
  private heldKeys = 0;
  /** Shard place (`env \0 segment \0 count \0 index`) → KV key of the last shard held there. */
  private readonly lastGood = new Map<string, string>();
  private readonly failedAt = new Map<string, number>();
  /** Shards the current evaluation wanted and did not hold: KV key → place. */
  private readonly wanted = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The engine's lookup for one environment's snapshot (CompileOptions.bigKeys). */
  lookup(environment: string): BigKeyLookup {
    return (segment, keys) => {
      const count = keys.shards.length;
      const names = keys.shards.map((name) =>
        name === EMPTY_SHARD ? EMPTY_SHARD : bigShardKey(environment, segment, name),
      );
      const places = keys.shards.map((_, i) => `${environment}\u0000${segment}\u0000${count}\u0000${i}`);
      return (targetingKey) => {
        const i = shardIndex(shardHash(targetingKey), count);
        const name = names[i]!;
        if (name === EMPTY_SHARD) return false;
        const set = this.held.get(name);
        if (set) return set.has(targetingKey);
        return this.miss(name, places[i]!, targetingKey);
      };
    };
  }

  /** Runs `evaluate` until every shard it reached is held (or could not be read); see the module note. */
  async evaluateWithShards<T>(kv: ShardReader, evaluate: () => T): Promise<T> {
    for (let round = 1; ; round++) {
      this.wanted.clear();
      const result = evaluate();
      if (this.wanted.size === 0 || round === MAX_ROUNDS) return result;
      await this.read(kv, new Map(this.wanted));
    }
  }

  private miss(name: string, place: string, targetingKey: string): boolean {
    const failed = this.failedAt.get(name);
    if (failed === undefined || this.now() - failed >= RETRY_MS) this.wanted.set(name, place);
    const fallback = this.lastGood.get(place);
    const old = fallback === undefined ? undefined : this.held.get(fallback);
    return old !== undefined && old.has(targetingKey);
  }

  private async read(kv: ShardReader, shards: Map<string, string>): Promise<void> {
    await Promise.all(
      [...shards].map(async ([name, place]) => {
        try {
          const text = await withTimeout(kv.get(name, { type: "text", cacheTtl: SHARD_CACHE_TTL }), KV_TIMEOUT_MS);
          const keys = text === null ? undefined : parseShard(text);
          if (!keys) throw new Error(text === null ? "not in KV (yet)" : "not a shard");
          this.hold(name, new Set(keys));
          this.lastGood.set(place, name);
          this.failedAt.delete(name);
        } catch (err) {
          // Answers keep coming from the last shard held at this place, if any.
          console.error(`big segment shard ${name} could not be read`, err instanceof Error ? err.message : err);
          this.failedAt.set(name, this.now());
        }
      }),
    );
  }

  private hold(name: string, keys: ReadonlySet<string>): void {
    const before = this.held.get(name);
    if (before) {
      this.held.delete(name);
      this.heldKeys -= before.size;
    }
    this.held.set(name, keys);
    this.heldKeys += keys.size;
    for (const [oldest, set] of this.held) {
      if (this.heldKeys <= MAX_HELD_KEYS || oldest === name) break;
      this.held.delete(oldest);
      this.heldKeys -= set.size;
    }
  }
}

/** The isolate's one shard store. */
export const bigSegmentShards = new BigSegmentShards();
