/**
 * Reading an environment's snapshot from KV, runtime-free: the edge's cache (edge/snapshot-cache.ts)
 * and any other reader of the same KV (an SDK over a KV binding) share it.
 *
 * Levels, fastest first:
 * 1. Memory: one {@link Loaded} per environment, replaced whole on change (never mutated in place
 *    while requests read it). Trusted for `refreshMs`; after that the next request re-reads the pointer.
 * 2. KV, through {@link KvGet}: the pointer `ptr:<env>`, then the immutable snapshot
 *    `snap:<env>:<version>` (how long KV itself may cache each is the adapter's business). In the
 *    partitioned layout (snapshot-chunks.ts) that is a root, and the chunks it names follow: only
 *    those the held version does not already have, so a one-flag change costs the root and one chunk.
 * 3. Last known good: when KV throws, takes longer than `kvTimeoutMs`, or reads the pointer as
 *    null, the previous snapshot keeps answering, marked `stale`, and is re-checked after another
 *    refresh interval. Only the store's tombstone (kv-layout.ts) drops it.
 *
 * One load per environment runs at a time, and no request awaits another's (core/load-marks.ts):
 * while one request loads, others answer from what is held (stale-while-revalidate); a request
 * with nothing usable held waits on its own timer for that load to land, and takes over with its
 * own read once it is overdue. Failed lookups are remembered for one interval too, so a KV outage
 * with nothing held costs one read per interval, not one per request.
 *
 * A version announced out of band ({@link SnapshotReader.noteVersion}, a client's `flagConfigEtag`)
 * is read directly from its versioned key, without waiting for the pointer.
 * @module
 */
import type { CompiledEnvironment } from "../evaluation-types";
import type { EnvironmentDoc } from "../model";
import type { Result } from "../result";
import { withTimeout } from "../timeout";
import { LoadMarks, waitStep } from "../load-marks";
import { isPointer, isPointerTombstone, kvKey } from "./kv-layout";
import { openChunks, readRoot, type RootRead } from "./snapshot-chunks";
import { readSnapshot, type SnapshotRead } from "./snapshot-text";

/**
 * The KV calls a reader makes: a Workers KV binding behind a small adapter, or a test double.
 * `getMany` (KV's bulk read, up to {@link BULK_READ} keys as one operation) is optional; without
 * it chunks are read one `get` each.
 */
export interface KvGet {
  get(key: string, type: "text" | "json"): Promise<unknown>;
  getMany?(keys: string[], type: "text"): Promise<ReadonlyMap<string, unknown>>;
}
/** Keys per bulk read (KV's limit). */
export const BULK_READ = 100;
/** Opens a snapshot for evaluation (the edge compiles each flag on first use: lazy-compile.ts). */
export type Compile<C = CompiledEnvironment> = (snapshot: SnapshotRead) => Result<C>;

/** Environments held per reader; the least recently loaded is dropped first. */
export const MAX_ENVIRONMENTS = 100;
export const DEFAULT_REFRESH_MS = 250;
export const DEFAULT_KV_TIMEOUT_MS = 1_000;
/**
 * Hinted versions found missing per environment per refresh interval before further hints are
 * ignored until the next interval: hints come from clients too (`flagConfigEtag`, `If-None-Match`),
 * so made-up versions must not turn into one KV read per request.
 */
export const MAX_MISSING_PER_INTERVAL = 4;

export interface Loaded<C = CompiledEnvironment> {
  environment: string;
  version: number;
  publishedAt: string;
  /** The whole document, parsed on first call (the snapshot routes); undefined if it does not parse. */
  doc(): EnvironmentDoc | undefined;
  compiled: C;
  /** Served from last-known-good because KV failed at the last check. */
  stale: boolean;
}

interface Entry<C> {
  loaded: Loaded<C>;
  checkedAt: number;
  /**
   * Versions asked for (change stream, flagConfigEtag) but not readable at the last check, so a
   * missing version costs one KV read per refresh interval, not one per request.
   */
  missing: Set<number>;
  /** The chunks of the held version (layout 4), by id: the next version reads only the ones it lacks. */
  chunks: ReadonlyMap<string, string>;
}

export type Lookup<C = CompiledEnvironment> =
  | { ok: true; snapshot: Loaded<C> }
  | { ok: false; reason: "none" | "unavailable"; detail: string };

export interface SnapshotReaderOptions<C = CompiledEnvironment> {
  compile: Compile<C>;
  refreshMs?: number;
  kvTimeoutMs?: number;
  now?: () => number;
}

export class SnapshotReader<C = CompiledEnvironment> {
  private readonly entries = new Map<string, Entry<C>>();
  private readonly loading: LoadMarks;
  /** The last failed lookup per environment (nothing held): answered again for one interval. */
  private readonly failed = new Map<string, { lookup: Extract<Lookup<C>, { ok: false }>; at: number }>();
  private readonly hints = new Map<string, number>();
  private readonly compile: Compile<C>;
  readonly refreshMs: number;
  private readonly kvTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: SnapshotReaderOptions<C>) {
    this.compile = options.compile;
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.kvTimeoutMs = options.kvTimeoutMs ?? DEFAULT_KV_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    // A load makes at most three KV reads one after another (pointer, snapshot or root, chunks),
    // each bounded by kvTimeoutMs.
    this.loading = new LoadMarks(3 * this.kvTimeoutMs + this.refreshMs, MAX_ENVIRONMENTS);
  }

  /** A version is known to exist (change stream): the next read loads it without waiting for the pointer. */
  noteVersion(environment: string, version: number): void {
    if (!Number.isInteger(version) || version < 1) return;
    if ((this.hints.get(environment) ?? 0) < version) this.hints.set(environment, version);
  }

  /**
   * The environment's snapshot: from memory when fresh, else from KV (see the module note for how
   * concurrent requests share one load without sharing a promise).
   * `minVersion` (a client's `flagConfigEtag`) asks for at least that version when it exists.
   */
  async get(kv: KvGet, environment: string, minVersion = 0): Promise<Lookup<C>> {
    for (;;) {
      const now = this.now();
      const entry = this.entries.get(environment);
      const wants = [minVersion, this.hints.get(environment) ?? 0];
      const expired = !entry || now - entry.checkedAt >= this.refreshMs;
      const satisfied =
        !!entry &&
        (entry.missing.size >= MAX_MISSING_PER_INTERVAL ||
          wants.every((w) => w <= entry.loaded.version || entry.missing.has(w)));
      if (entry && !expired && satisfied) return { ok: true, snapshot: entry.loaded };
      const failure = this.failed.get(environment);
      if (!entry && failure && now - failure.at < this.refreshMs && wants.every((w) => w === 0)) return failure.lookup;
      if (!this.loading.busy(environment, now)) {
        const mark = this.loading.begin(environment, now);
        try {
          return await this.load(kv, environment, wants, expired);
        } finally {
          this.loading.end(environment, mark);
        }
      }
      // Another request is loading: what is held answers meanwhile, unless this client needs a
      // newer version than it (then wait for that load, on this request's own timer).
      if (entry && satisfied) return { ok: true, snapshot: entry.loaded };
      await waitStep();
    }
  }

  private async load(kv: KvGet, environment: string, wants: number[], expired: boolean): Promise<Lookup<C>> {
    const entry = this.entries.get(environment);
    const now = this.now();
    const missing = expired || !entry ? new Set<number>() : entry.missing;
    try {
      const pointer = await withTimeout(kv.get(kvKey.pointer(environment), "json"), this.kvTimeoutMs);
      if (isPointerTombstone(pointer)) {
        // The store deleted the environment: forget what we held.
        this.entries.delete(environment);
        return this.fail(environment, now, {
          ok: false,
          reason: "none",
          detail: "environment has no published snapshot",
        });
      }
      if (!isPointer(pointer)) {
        // Never published, or a read that came back empty: with a snapshot held, that is not the
        // store's word that the environment is gone, so the held one keeps answering.
        if (entry) {
          console.error(`KV pointer for ${environment} read as empty; keeping version ${entry.loaded.version}`);
          return this.keep(environment, entry.loaded, now, missing, true);
        }
        return this.fail(environment, now, {
          ok: false,
          reason: "none",
          detail: "environment has no published snapshot",
        });
      }
      // Highest first: an announced version wins over a lagging pointer.
      const candidates = [...new Set([...wants, pointer.version])].filter((v) => v > 0).sort((a, b) => b - a);
      for (const version of candidates) {
        // Never go backwards: the pointer may lag a version already held.
        if (entry && entry.loaded.version >= version) return this.keep(environment, entry.loaded, now, missing, false);
        if (missing.has(version)) continue;
        // As text: only the head is parsed here, each flag when first evaluated (core/wire/snapshot-text.ts).
        const text = await withTimeout(kv.get(kvKey.snapshot(environment, version), "text"), this.kvTimeoutMs);
        const root = typeof text === "string" ? readRoot(text) : undefined;
        const chunks = root ? await this.readChunks(kv, environment, root, entry?.chunks) : undefined;
        const raw =
          typeof text !== "string" ? undefined : root ? chunks && openChunks(root, chunks) : readSnapshot(text);
        if (!raw) {
          missing.add(version); // announced but not visible here yet: fall back to a lower candidate
          continue;
        }
        const compiled = this.compile(raw);
        if (!compiled.ok) {
          console.error(`snapshot ${environment}@${version} does not compile`, compiled.errors.slice(0, 5));
          missing.add(version);
          continue;
        }
        const loaded: Loaded<C> = {
          environment,
          version: raw.version,
          publishedAt: raw.publishedAt,
          doc: () => raw.doc(),
          compiled: compiled.value,
          stale: false,
        };
        return this.keep(environment, loaded, now, missing, false, chunks ?? new Map());
      }
      if (entry) return this.keep(environment, entry.loaded, now, missing, false);
      return this.fail(environment, now, {
        ok: false,
        reason: "unavailable",
        detail: `snapshot ${pointer.version} of the environment is not readable yet`,
      });
    } catch (err) {
      console.error(`KV read for ${environment} failed`, err instanceof Error ? err.message : err);
      if (entry) return this.keep(environment, entry.loaded, now, missing, true);
      return this.fail(environment, now, { ok: false, reason: "unavailable", detail: "flag storage is unavailable" });
    }
  }

  /**
   * The texts of the chunks `root` names: those already held for the version before, the rest
   * read from KV (in bulk reads where the adapter has them). Undefined when one is not there: a
   * root is written after its chunks, so that is a root from a store that failed half way, or KV
   * not yet showing a fresh chunk here; the version counts as missing for this interval.
   */
  private async readChunks(
    kv: KvGet,
    environment: string,
    root: RootRead,
    held: ReadonlyMap<string, string> | undefined,
  ): Promise<Map<string, string> | undefined> {
    const texts = new Map<string, string>();
    const lacking: string[] = [];
    for (const id of root.chunkIds) {
      const text = held?.get(id);
      if (text === undefined) lacking.push(id);
      else texts.set(id, text);
    }
    const keyOf = (id: string) => kvKey.chunk(environment, id);
    const reads: Promise<void>[] = [];
    for (let i = 0; i < lacking.length; i += kv.getMany ? BULK_READ : 1) {
      const ids = lacking.slice(i, i + (kv.getMany ? BULK_READ : 1));
      reads.push(
        (async () => {
          const got = kv.getMany
            ? await withTimeout(kv.getMany(ids.map(keyOf), "text"), this.kvTimeoutMs)
            : new Map([[keyOf(ids[0]!), await withTimeout(kv.get(keyOf(ids[0]!), "text"), this.kvTimeoutMs)]]);
          for (const id of ids) {
            const text = got.get(keyOf(id));
            if (typeof text === "string") texts.set(id, text);
          }
        })(),
      );
    }
    await Promise.all(reads);
    return texts.size === root.chunkIds.length ? texts : undefined;
  }

  private fail(environment: string, now: number, lookup: Extract<Lookup<C>, { ok: false }>): Lookup<C> {
    this.failed.delete(environment);
    this.failed.set(environment, { lookup, at: now });
    if (this.failed.size > MAX_ENVIRONMENTS) this.failed.delete(this.failed.keys().next().value as string);
    return lookup;
  }

  private keep(
    environment: string,
    loaded: Loaded<C>,
    now: number,
    missing: Set<number>,
    stale: boolean,
    chunks?: ReadonlyMap<string, string>,
  ): Lookup<C> {
    this.failed.delete(environment);
    const next = loaded.stale === stale ? loaded : { ...loaded, stale };
    const held = chunks ?? this.entries.get(environment)?.chunks ?? new Map<string, string>();
    this.entries.delete(environment); // re-insert: Map order is least recently loaded first
    this.entries.set(environment, { loaded: next, checkedAt: now, missing, chunks: held });
    if (this.entries.size > MAX_ENVIRONMENTS) this.entries.delete(this.entries.keys().next().value as string);
    return { ok: true, snapshot: next };
  }
}
