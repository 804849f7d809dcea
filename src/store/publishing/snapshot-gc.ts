/**
 * Deleting superseded KV snapshots. Snapshots are immutable and written once per version, so
 * without this KV grows by one (possibly multi-MB) value per change, forever.
 *
 * An edge isolate reads `ptr:<env>` and then `snap:<env>:<that version>` (or the newest version,
 * hinted by the change stream). The pointer it reads may be stale, so a snapshot is deleted only
 * once a newer pointer has been in KV for longer than the grace period. Runs from the DO alarm,
 * after publishing, and never holds up a publish: a failed delete is simply tried again later.
 *
 * The chunks of partitioned snapshots go right after the roots that named them (chunk-ledger.ts
 * says when a chunk is due), in the publisher's lane, so no flush checks the ledger mid-delete.
 * @module
 */
import { kvKey } from "../../core/wire/kv-layout";
import type { ChunkLedger } from "./chunk-ledger";
import { kvCall, type KvWriter } from "./publish";
import { deferSnapshot, dueSnapshots, forgetSnapshot, nextDeletionAt } from "./snapshots-repo";
import type { Sql } from "../sql";

/**
 * The edge reads the pointer with cacheTtl 30 s and a KV write takes up to ~60 s to reach every
 * location, so a reader may act on a superseded pointer for ~90 s after the newer one was written
 * (plus the time a request takes to read the snapshot). 10 minutes leaves a wide margin.
 */
export const SNAPSHOT_GRACE_MS = 10 * 60_000;
/** After a failed KV delete: KV may be briefly unavailable; there is no hurry to free the space. */
export const DELETE_RETRY_MS = 60_000;
/** Deletes per alarm run, well inside the per-invocation KV operation limit; the rest go next run. */
export const DELETES_PER_RUN = 100;
/** Deletes in flight at once. */
const PARALLEL_DELETES = 10;

/** Chunk deletion's view of publishing: the ledger, and the flush lane to run in. */
export interface ChunkDeletion {
  ledger: ChunkLedger;
  inLane<T>(work: () => Promise<T>): Promise<T>;
}

export class SnapshotCollector {
  /** Swappable by tests (like `Publisher.minIntervalMs`). */
  graceMs = SNAPSHOT_GRACE_MS;
  retryMs = DELETE_RETRY_MS;
  /** After a failed chunk delete: not before then. */
  private chunkRetryAt = 0;

  /** `kv` is read at each run, so a test's wrapper around the publisher's KV applies here too. */
  constructor(
    private readonly sql: Sql,
    private readonly kv: () => KvWriter,
    private readonly chunks?: ChunkDeletion,
  ) {}

  /** When the next deletion is due (ms since epoch), or undefined when nothing is queued. */
  nextAt(): number | undefined {
    const roots = nextDeletionAt(this.sql, this.graceMs);
    // Due now (an alarm time must be in the future or now), or once a failed delete may be retried.
    const chunks = this.chunks?.ledger.anyDue() ? Math.max(this.chunkRetryAt, Date.now()) : undefined;
    return roots === undefined ? chunks : chunks === undefined ? roots : Math.min(roots, chunks);
  }

  /** Deletes `keys` from KV, `PARALLEL_DELETES` at a time; says which went. */
  private async deleteKeys(keys: readonly string[]): Promise<boolean[]> {
    const out: boolean[] = [];
    for (let i = 0; i < keys.length; i += PARALLEL_DELETES) {
      const results = await Promise.allSettled(
        keys.slice(i, i + PARALLEL_DELETES).map((key) => kvCall(this.kv().delete(key), "delete")),
      );
      out.push(...results.map((r) => r.status === "fulfilled"));
    }
    return out;
  }

  /** Deletes the chunks no remaining root names (after `collect` has deleted the roots that were due). */
  async collectChunks(environment: string): Promise<{ deleted: number; failed: number }> {
    const chunks = this.chunks;
    if (!chunks || Date.now() < this.chunkRetryAt) return { deleted: 0, failed: 0 };
    return chunks.inLane(async () => {
      const due = chunks.ledger.due();
      const went = await this.deleteKeys(due.map((id) => kvKey.chunk(environment, id)));
      due.forEach((id, i) => {
        if (went[i]) chunks.ledger.forget(id);
      });
      const failed = went.filter((ok) => !ok).length;
      if (failed > 0) {
        this.chunkRetryAt = Date.now() + this.retryMs;
        console.warn(`KV chunk delete failed for ${failed} chunk(s) of ${environment}; retrying in ${this.retryMs} ms`);
      }
      return { deleted: due.length - failed, failed };
    });
  }

  /** Deletes the snapshots that are due. Never throws; failures are deferred by `retryMs`. */
  async collect(environment: string, now = Date.now()): Promise<{ deleted: number; failed: number }> {
    const due = dueSnapshots(this.sql, now, this.graceMs, DELETES_PER_RUN);
    let deleted = 0;
    let failed = 0;
    const went = await this.deleteKeys(due.map((version) => kvKey.snapshot(environment, version)));
    due.forEach((version, i) => {
      if (went[i]) {
        forgetSnapshot(this.sql, version);
        deleted++;
      } else {
        deferSnapshot(this.sql, version, Date.now() + this.retryMs);
        failed++;
      }
    });
    if (failed > 0)
      console.warn(
        `KV snapshot delete failed for ${failed} version(s) of ${environment}; retrying in ${this.retryMs} ms`,
      );
    return { deleted, failed };
  }
}
