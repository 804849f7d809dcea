/**
 * Deleting superseded KV snapshots. Snapshots are immutable and written once per version, so
 * without this KV grows by one (possibly multi-MB) value per change, forever.
 *
 * An edge isolate reads `ptr:<env>` and then `snap:<env>:<that version>` (or the newest version,
 * hinted by the change stream). The pointer it reads may be stale, so a snapshot is deleted only
 * once a newer pointer has been in KV for longer than the grace period. Runs from the DO alarm,
 * after publishing, and never holds up a publish: a failed delete is simply tried again later.
 * @module
 */
import { kvKey } from "../../core/wire/kv-layout";
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

export class SnapshotCollector {
  /** Swappable by tests (like `Publisher.minIntervalMs`). */
  graceMs = SNAPSHOT_GRACE_MS;
  retryMs = DELETE_RETRY_MS;

  /** `kv` is read at each run, so a test's wrapper around the publisher's KV applies here too. */
  constructor(private readonly sql: Sql, private readonly kv: () => KvWriter) {}

  /** When the next deletion is due (ms since epoch), or undefined when nothing is queued. */
  nextAt(): number | undefined {
    return nextDeletionAt(this.sql, this.graceMs);
  }

  /** Deletes the snapshots that are due. Never throws; failures are deferred by `retryMs`. */
  async collect(environment: string, now = Date.now()): Promise<{ deleted: number; failed: number }> {
    const due = dueSnapshots(this.sql, now, this.graceMs, DELETES_PER_RUN);
    let deleted = 0;
    let failed = 0;
    for (let i = 0; i < due.length; i += PARALLEL_DELETES) {
      const batch = due.slice(i, i + PARALLEL_DELETES);
      const results = await Promise.allSettled(
        batch.map((version) => kvCall(this.kv().delete(kvKey.snapshot(environment, version)), "delete")));
      results.forEach((result, j) => {
        if (result.status === "fulfilled") { forgetSnapshot(this.sql, batch[j]); deleted++; }
        else { deferSnapshot(this.sql, batch[j], Date.now() + this.retryMs); failed++; }
      });
    }
    if (failed > 0) console.warn(`KV snapshot delete failed for ${failed} version(s) of ${environment}; retrying in ${this.retryMs} ms`);
    return { deleted, failed };
  }
}
