/**
 * Publishing to KV after a commit: the immutable snapshot `snap:<env>:<version>` first (in the
 * partitioned layout: the chunks KV does not hold yet, then the root naming them all), then the
 * pointer `ptr:<env>` (a tombstone once the environment is deleted), then any SDK key records
 * still pending (key records also have a lane of their own: {@link Publisher.flushKeys}). One flush runs at a time, so the
 * pointer only ever moves forward; commits that land while a flush is busy are folded into the
 * next one (coalescing).
 *
 * KV accepts about one write per second to the same key, so pointer writes are spaced by
 * `minIntervalMs` (default 1000). A flush never waits for the slot: once the snapshot is written
 * (and announced on the change stream, whose subscribers read it by version), a pointer the slot
 * does not allow yet is left to a timer at the slot, and every commit that lands meanwhile shares
 * that one write. So a write answers at commit plus its own KV puts, whatever the interval. Any KV
 * failure schedules the DO alarm with exponential backoff (0.5 s doubling to a 30 s cap) and the
 * alarm flushes again until the pointer in KV names the DO's version.
 *
 * `Publishing` is the Durable Object's side of it: when it needs the alarm (the backstop after each
 * commit, a retry after a failure; the store's alarm scheduler sets the one alarm for all its
 * users), and how long an RPC answer waits for KV.
 * @module
 */
import { kvKey, type KeyRecord, type Pointer, type PointerTombstone } from "../../core/wire/kv-layout";
import type { EnvironmentDoc } from "../../core/model";
import { encodeChunks, rootText, type EncodedChunks } from "../../core/wire/snapshot-chunks";
import { encodeDoc, snapshotText, type EncodedDoc } from "../../core/wire/snapshot-text";
import type { ChunkLedger } from "./chunk-ledger";
import { withTimeout } from "../../core/timeout";
import type { StoredKey } from "../environment/keys-repo";

/** The part of KVNamespace publishing uses; tests swap in a failing or counting wrapper. */
export type KvWriter = Pick<KVNamespace, "put" | "delete">;

/** What should be in KV now, read synchronously from the DO. */
export interface PublishState {
  name: string;
  version: number;
  deleted: boolean;
  /** Commit time of `version`. */
  publishedAt: string;
  /** The document of `version`, serialised once per version (at commit): partitioned, or layout 3 when its keys cannot be. */
  encoded(): Encoded;
}

/** A version as KV gets it: a root and its chunks, or one layout-3 value. */
export type Encoded = { chunks: EncodedChunks } | { doc: EncodedDoc };

/**
 * `doc` as KV will get it, re-encoding only the chunks whose items changed since `previous` (the
 * version before, when the object still holds it), and why it would not fit in KV, if it would not.
 */
export function encodeVersion(doc: EnvironmentDoc, previous: Encoded | undefined): { value: Encoded; tooBig?: string } {
  const chunks = encodeChunks(doc, previous && "chunks" in previous ? previous.chunks : undefined);
  const over = (chars: number, text: () => string) =>
    chars * 3 > MAX_SNAPSHOT_BYTES && new TextEncoder().encode(text()).length > MAX_SNAPSHOT_BYTES;
  if (chunks) {
    const value = { chunks };
    const root = rootText({ environment: "", version: 0, publishedAt: "" }, chunks);
    if (over(root.length, () => root))
      return {
        value,
        tooBig: `the environment's metadata and evaluators would exceed the ${MAX_SNAPSHOT_BYTES}-byte KV value limit`,
      };
    const largest = () => [...chunks.chunks.values()].find((t) => t.length === chunks.largest) ?? "";
    if (over(chunks.largest, largest))
      return {
        value,
        tooBig: `a group of flags or segments would exceed the ${MAX_SNAPSHOT_BYTES}-byte KV value limit`,
      };
    return { value };
  }
  const encoded = encodeDoc(doc);
  const value = { doc: encoded };
  if (over(encoded.length, () => encoded.text + encoded.layout))
    return { value, tooBig: `the environment would exceed the ${MAX_SNAPSHOT_BYTES}-byte snapshot limit` };
  return { value };
}

export interface PublishSource {
  state(): PublishState | undefined;
  published(): { pointer: number; snapshot: number };
  /** Before the snapshot put, so a put that lands but fails to answer is still deleted later. */
  writingSnapshot(version: number): void;
  markSnapshot(version: number): void;
  /** After the pointer write; 0 after the pointer was deleted. Supersedes older snapshots. */
  markPointer(version: number): void;
  pendingKeys(): StoredKey[];
  markKey(id: string, revoked: boolean): void;
  /** After the snapshot of `version` is in KV (the change stream tells subscribers; they read it by version). */
  onWritten(version: number): void;
  /** Which chunks KV holds, and their retirement. */
  readonly chunks: ChunkLedger;
  scheduleRetry(delayMs: number): void;
}

export const RETRY_BASE_MS = 500;
export const RETRY_CAP_MS = 30_000;
export const DEFAULT_POINTER_INTERVAL_MS = 1000;
/** A KV call that has not settled by then counts as failed, so one hung write cannot stall every later flush. */
export const KV_TIMEOUT_MS = 15_000;
/** Chunk puts in flight at once. */
const PARALLEL_PUTS = 16;
/** KV values are limited to 25 MiB; changes whose snapshot (or chunk) would not fit are refused at commit. */
export const MAX_SNAPSHOT_BYTES = 24 * 1024 * 1024;

/** A KV write bounded by KV_TIMEOUT_MS (shared with snapshot-gc.ts). */
export function kvCall<T>(promise: Promise<T>, what: string): Promise<T> {
  return withTimeout(promise, KV_TIMEOUT_MS, `KV ${what} timed out`);
}

export class Publisher {
  /** Swappable so a test can inject KV failures (see test/store). */
  kv: KvWriter;
  minIntervalMs: number;
  private tail: Promise<boolean> = Promise.resolve(true);
  private keysTail: Promise<unknown> = Promise.resolve();
  private lastPointerWrite = 0;
  private failures = 0;
  /** The timer that writes a pointer the slot did not allow yet. */
  private pointerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    kv: KvWriter,
    private readonly source: PublishSource,
    minIntervalMs = DEFAULT_POINTER_INTERVAL_MS,
  ) {
    this.kv = kv;
    this.minIntervalMs = minIntervalMs;
  }

  /**
   * Brings KV up to the DO's state, but for a pointer whose slot has not come (a timer writes it).
   * Resolves true when done, false after a failure (retry scheduled).
   */
  flush(): Promise<boolean> {
    const run = this.tail.then(() => this.syncOnce());
    this.tail = run;
    return run;
  }

  /** Runs `work` in the flush lane: no flush starts or resumes while it runs (chunk deletion). */
  inLane<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.then(
      () => true,
      () => true,
    );
    return run;
  }

  /**
   * Writes the SDK key records still pending. Key writes run one after another on a lane of their
   * own, never behind a snapshot write or a pointer slot: a minted key is useless (401 at the
   * edge) until its record is in KV, and each record is its own KV key, so nothing spaces them.
   * Serialised among themselves, so a revocation's write always lands after an earlier mint's.
   */
  flushKeys(): Promise<void> {
    const run = this.keysTail.then(() => this.writeKeys());
    this.keysTail = run.catch(() => undefined);
    return run;
  }

  private async writeKeys(): Promise<void> {
    const state = this.source.state();
    if (!state) return;
    for (const key of this.source.pendingKeys()) {
      const record: KeyRecord = {
        id: key.id,
        kind: key.kind,
        environment: state.name,
        revoked: key.revokedAt !== undefined,
      };
      await kvCall(this.kv.put(kvKey.sdkKey(key.hash), JSON.stringify(record)), "put");
      this.source.markKey(key.id, record.revoked);
    }
  }

  /**
   * The version's value under `snap:<env>:<version>`. Partitioned: the chunks KV lacks first (in
   * parallel), then the root, so a root in KV always names chunks already there. Built around the
   * document serialised at commit: no second stringify.
   */
  private async writeSnapshot(state: PublishState): Promise<void> {
    const head = { environment: state.name, version: state.version, publishedAt: state.publishedAt };
    const encoded = state.encoded();
    let value: string;
    if ("chunks" in encoded) {
      const { chunks } = encoded.chunks;
      const lacking = this.source.chunks.lacking(chunks.keys());
      this.source.chunks.writing(lacking);
      for (let i = 0; i < lacking.length; i += PARALLEL_PUTS) {
        await Promise.all(
          lacking
            .slice(i, i + PARALLEL_PUTS)
            .map((id) => kvCall(this.kv.put(kvKey.chunk(state.name, id), chunks.get(id)!), "put")),
        );
      }
      this.source.chunks.written(state.version, new Set(chunks.keys()));
      value = rootText(head, encoded.chunks);
    } else {
      value = snapshotText(head, encoded.doc);
    }
    this.source.writingSnapshot(state.version);
    await kvCall(this.kv.put(kvKey.snapshot(state.name, state.version), value), "put");
    this.source.markSnapshot(state.version);
  }

  /** The delay before the next retry after `failures` consecutive failures. */
  static backoff(failures: number): number {
    return Math.min(RETRY_BASE_MS * 2 ** Math.max(failures - 1, 0), RETRY_CAP_MS);
  }

  private async syncOnce(): Promise<boolean> {
    try {
      for (;;) {
        const state = this.source.state();
        if (!state) return true;
        const done = this.source.published();
        if (state.deleted) {
          // A tombstone, not a delete: an edge drops its last-known-good snapshot only on the
          // store's word (core/wire/kv-layout.ts PointerTombstone), never on a pointer that reads empty.
          if (done.pointer !== 0) {
            const tombstone: PointerTombstone = { deleted: true, deletedAt: new Date().toISOString() };
            await kvCall(this.kv.put(kvKey.pointer(state.name), JSON.stringify(tombstone)), "put");
          }
          // Also when no pointer was ever written: snapshots written before the delete are superseded.
          this.source.markPointer(0);
          this.source.chunks.retireAll(state.version);
        } else {
          if (state.version > done.snapshot) {
            await this.writeSnapshot(state);
            this.source.onWritten(state.version);
          }
          if (state.version > done.pointer) {
            const wait = this.lastPointerWrite + this.minIntervalMs - Date.now();
            if (wait > 0) {
              // The slot comes later: the caller does not wait for it, a timer writes the pointer
              // then for whatever version is newest by that time (coalescing).
              this.pointerTimer ??= setTimeout(() => {
                this.pointerTimer = undefined;
                void this.flush();
              }, wait);
            } else {
              const pointer: Pointer = { version: state.version, publishedAt: state.publishedAt };
              this.lastPointerWrite = Date.now();
              await kvCall(this.kv.put(kvKey.pointer(state.name), JSON.stringify(pointer)), "put");
              this.source.markPointer(state.version);
            }
          }
        }
        await this.flushKeys();
        const now = this.source.state();
        if (!now || (now.version === state.version && now.deleted === state.deleted)) break;
      }
      this.failures = 0;
      return true;
    } catch (err) {
      this.failures++;
      const delay = Publisher.backoff(this.failures);
      console.warn(`KV publish failed (attempt ${this.failures}), retrying in ${delay} ms:`, err);
      this.source.scheduleRetry(delay);
      return false;
    }
  }
}

/**
 * How long an RPC waits for its snapshot to reach KV before answering anyway (the alarm finishes
 * the job). The pointer is not waited for (its slot may be up to `minIntervalMs` away): the
 * snapshot is announced on the change stream once written, and the pointer follows by the slot.
 */
export const RPC_PUBLISH_WAIT_MS = 2500;
/** A safety alarm after each commit, in case the object is evicted before its publish completes. */
export const BACKSTOP_ALARM_MS = 10_000;

export class Publishing {
  /** Public for tests (`runInDurableObject`): its `kv` and `minIntervalMs` can be swapped. */
  readonly publisher: Publisher;
  /**
   * When publishing next needs the alarm (the backstop after a commit, or a retry after a KV
   * failure); undefined once an alarm run has flushed. In memory only: an evicted object still has
   * its stored alarm, and that run recomputes everything.
   */
  private due: number | undefined;

  /** `armAlarm`: sets the DO's one alarm to the earliest need of all its users, this one's included. */
  constructor(
    kv: KvWriter,
    source: Omit<PublishSource, "scheduleRetry">,
    minIntervalMs: number,
    readonly armAlarm: () => Promise<void>,
  ) {
    this.publisher = new Publisher(
      kv,
      {
        ...source,
        // A pointer write supersedes snapshots: their deletion may now need the alarm.
        markPointer: (version) => {
          source.markPointer(version);
          void this.armAlarm();
        },
        scheduleRetry: (delayMs) => {
          this.due = Date.now() + delayMs;
          void this.armAlarm();
        },
      },
      minIntervalMs,
    );
  }

  /** After a commit: arms the backstop, then answers once KV has it or after RPC_PUBLISH_WAIT_MS. */
  async afterCommit(): Promise<void> {
    this.due = Date.now() + BACKSTOP_ALARM_MS;
    await this.armAlarm();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RPC_PUBLISH_WAIT_MS);
    });
    await Promise.race([this.publisher.flush(), waited]).finally(() => {
      if (timer !== undefined) clearTimeout(timer);
    });
  }

  /**
   * After a change to SDK keys alone (mint, revoke): answers once the records are in KV (or after
   * KV_TIMEOUT_MS; a failure leaves them pending for the alarm's flush), without waiting behind a
   * snapshot or pointer write.
   */
  async afterKeyChange(): Promise<void> {
    this.due = Date.now() + BACKSTOP_ALARM_MS;
    await this.armAlarm();
    try {
      await this.publisher.flushKeys();
    } catch (err) {
      console.warn("KV key record write failed; the alarm retries it:", err);
      this.due = Date.now() + Publisher.backoff(1);
      await this.armAlarm();
    }
  }

  /** When publishing next needs the alarm, if it does. */
  dueAt(): number | undefined {
    return this.due;
  }

  /** The alarm's publishing part; on failure the publisher has set the due time to the retry. */
  async onAlarm(): Promise<void> {
    this.due = undefined;
    await this.publisher.flush();
  }
}
