/**
 * The edge's view of each environment: core/wire/snapshot-reader.ts (memory → KV → last known
 * good, stale-while-revalidate, one load per environment without shared promises, failed-lookup
 * memo, the pointer tombstone) over the isolate's KV binding, plus what only the edge decides: how
 * long KV's own edge cache may keep each read, and one reader per isolate.
 *
 * The pointer `ptr:<env>` is read with the smallest `cacheTtl` KV allows (30 s); every other key
 * the reader reads (versioned snapshots, their chunks) is immutable, so it gets a long one. The
 * Durable Object is never called from here.
 *
 * A snapshot is read as text and only its head parsed (core/wire/snapshot-text.ts); `compile` opens it so
 * that each flag is parsed and compiled when first evaluated, and the whole document only when a
 * route asks for it ({@link Loaded.doc}).
 * @module
 */
import type { CompiledEnvironment } from "../core/evaluation-types";
import { isMutableKey } from "../core/wire/kv-layout";
import {
  DEFAULT_REFRESH_MS,
  SnapshotReader,
  type Compile as ReaderCompile,
  type KvGet,
  type Loaded as ReaderLoaded,
  type Lookup as ReaderLookup,
  type SnapshotReaderOptions,
} from "../core/wire/snapshot-reader";

export {
  DEFAULT_KV_TIMEOUT_MS,
  DEFAULT_REFRESH_MS,
  MAX_ENVIRONMENTS,
  MAX_MISSING_PER_INTERVAL,
} from "../core/wire/snapshot-reader";

/** KV edge cache for the pointer: the smallest value KV accepts (it throws below 30). */
export const POINTER_CACHE_TTL = 30;
/** KV edge cache for versioned snapshots and their chunks: immutable, so a day is safe. */
export const SNAPSHOT_CACHE_TTL = 86_400;

/** The part of KV the edge uses (the real namespace, or a wrapper in tests). */
export type KvReader = Pick<KVNamespace, "get">;
export type Compile = ReaderCompile<CompiledEnvironment>;
export type Loaded = ReaderLoaded<CompiledEnvironment>;
export type Lookup = ReaderLookup<CompiledEnvironment>;
export type SnapshotCacheOptions = SnapshotReaderOptions<CompiledEnvironment>;

/**
 * The reader's KV calls on a binding, each with the `cacheTtl` its key allows. Chunks are read in
 * bulk (up to 100 keys per call, one KV operation), so even a cold read of a 100,000-flag
 * environment stays far inside a request's KV operation limit.
 */
function readerKv(kv: KvReader): KvGet {
  return {
    get: (key, type) =>
      kv.get(key, { type: type as "text", cacheTtl: isMutableKey(key) ? POINTER_CACHE_TTL : SNAPSHOT_CACHE_TTL }),
    getMany: (keys) => kv.get(keys, { type: "text", cacheTtl: SNAPSHOT_CACHE_TTL }),
  };
}

export class SnapshotCache {
  private readonly reader: SnapshotReader<CompiledEnvironment>;
  readonly refreshMs: number;

  constructor(options: SnapshotCacheOptions) {
    this.reader = new SnapshotReader(options);
    this.refreshMs = this.reader.refreshMs;
  }

  /** A version is known to exist (change stream): the next read loads it without waiting for the pointer. */
  noteVersion(environment: string, version: number): void {
    this.reader.noteVersion(environment, version);
  }

  /** The environment's snapshot (core/wire/snapshot-reader.ts); `minVersion` is a client's `flagConfigEtag`. */
  get(kv: KvReader, environment: string, minVersion = 0): Promise<Lookup> {
    return this.reader.get(readerKv(kv), environment, minVersion);
  }
}

let shared: SnapshotCache | undefined;

/**
 * The isolate's one cache, created on first use with SNAPSHOT_REFRESH_SECONDS from the bindings
 * (vars are fixed for an isolate's lifetime, so reading them once is enough).
 */
export function sharedSnapshotCache(env: { SNAPSHOT_REFRESH_SECONDS?: string }, compile: Compile): SnapshotCache {
  if (!shared) {
    const seconds = Number(env.SNAPSHOT_REFRESH_SECONDS);
    const refreshMs = Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : DEFAULT_REFRESH_MS;
    shared = new SnapshotCache({ compile, refreshMs });
  }
  return shared;
}
