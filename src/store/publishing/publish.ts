/**
 * Publishing to KV after a commit: the immutable snapshot `snap:<env>:<version>` first, then the
 * pointer `ptr:<env>` (a tombstone once the environment is deleted), then any SDK key records
 * still pending (key records also have a lane of their own: {@link Publisher.flushKeys}). One flush runs at a time, so the
 * pointer only ever moves forward; commits that land while a flush is busy are folded into the
 * next one (coalescing).
 *
 * KV accepts about one write per second to the same key, so pointer writes are spaced by
 * `minIntervalMs` (default 1000): a commit less than that after the previous pointer write waits
 * for the slot, and every commit that arrives meanwhile shares that one write. Any KV failure
 * schedules the DO alarm with exponential backoff (0.5 s doubling to a 30 s cap) and the alarm
 * flushes again until the pointer in KV names the DO's version.
 *
 * `Publishing` is the Durable Object's side of it: when it needs the alarm (the backstop after each
 * commit, a retry after a failure; the store's alarm scheduler sets the one alarm for all its
 * users), and how long an RPC answer waits for KV.
 * @module
 */
import { kvKey, type KeyRecord, type Pointer, type PointerTombstone } from "../../core/wire/kv-layout";
import { snapshotText, type EncodedDoc } from "../../core/wire/snapshot-text";
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
  /** The document of `version`, serialised once per version (at commit) in the snapshot layout. */
  doc(): EncodedDoc;
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
  /** After the pointer names `version` (the change stream tells subscribers). */
  onPublished(version: number): void;
  scheduleRetry(delayMs: number): void;
}

export const RETRY_BASE_MS = 500;
export const RETRY_CAP_MS = 30_000;
export const DEFAULT_POINTER_INTERVAL_MS = 1000;
/** A KV call that has not settled by then counts as failed, so one hung write cannot stall every later flush. */
export const KV_TIMEOUT_MS = 15_000;
/** KV values are limited to 25 MiB; changes whose snapshot would not fit are refused at commit. */
export const MAX_SNAPSHOT_BYTES = 24 * 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

  constructor(kv: KvWriter, private readonly source: PublishSource, minIntervalMs = DEFAULT_POINTER_INTERVAL_MS) {
    this.kv = kv;
    this.minIntervalMs = minIntervalMs;
  }

  /** Brings KV up to the DO's state. Resolves true when KV matches, false after a failure (retry scheduled). */
  flush(): Promise<boolean> {
    const run = this.tail.then(() => this.syncOnce());
    this.tail = run;
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
      const record: KeyRecord = { id: key.id, kind: key.kind, environment: state.name, revoked: key.revokedAt !== undefined };
      await kvCall(this.kv.put(kvKey.sdkKey(key.hash), JSON.stringify(record)), "put");
      this.source.markKey(key.id, record.revoked);
    }
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
        } else {
          if (state.version > done.snapshot) {
            // Built around the document serialised at commit: no second stringify of 100k-key segments.
            const value = snapshotText({ environment: state.name, version: state.version, publishedAt: state.publishedAt }, state.doc());
            this.source.writingSnapshot(state.version);
            await kvCall(this.kv.put(kvKey.snapshot(state.name, state.version), value), "put");
            this.source.markSnapshot(state.version);
          }
          if (state.version > done.pointer) {
            const wait = this.lastPointerWrite + this.minIntervalMs - Date.now();
            if (wait > 0) { await sleep(wait); continue; } // newer commits may have landed meanwhile
            const pointer: Pointer = { version: state.version, publishedAt: state.publishedAt };
            this.lastPointerWrite = Date.now();
            await kvCall(this.kv.put(kvKey.pointer(state.name), JSON.stringify(pointer)), "put");
            this.source.markPointer(state.version);
            this.source.onPublished(state.version);
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
 * How long an RPC waits for its change to reach KV before answering anyway (the alarm finishes
 * the job). Longer than the pointer spacing, so a successful publish is normally awaited and
 * "answered ⇒ visible to the local edge" holds.
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
  constructor(kv: KvWriter, source: Omit<PublishSource, "scheduleRetry">, minIntervalMs: number, readonly armAlarm: () => Promise<void>) {
    this.publisher = new Publisher(kv, {
      ...source,
      // A pointer write supersedes snapshots: their deletion may now need the alarm.
      markPointer: (version) => { source.markPointer(version); void this.armAlarm(); },
      scheduleRetry: (delayMs) => { this.due = Date.now() + delayMs; void this.armAlarm(); },
    }, minIntervalMs);
  }

  /** After a commit: arms the backstop, then answers once KV has it or after RPC_PUBLISH_WAIT_MS. */
  async afterCommit(): Promise<void> {
    this.due = Date.now() + BACKSTOP_ALARM_MS;
    await this.armAlarm();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, RPC_PUBLISH_WAIT_MS); });
    await Promise.race([this.publisher.flush(), waited]).finally(() => { if (timer !== undefined) clearTimeout(timer); });
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
