/**
 * The KV snapshots this environment has written and not yet deleted, and when each was
 * superseded by a newer pointer. Read by snapshot-gc.ts to delete old snapshots after a grace
 * period; the table is the durable memory of that work, so an evicted object resumes it.
 * @module
 */
import { all, first, run, type Sql } from "../sql";

/** A snapshot `snap:<env>:<version>` is (about to be) in KV. Versions are never reused, so a repeat is a no-op. */
export function recordSnapshot(sql: Sql, version: number): void {
  run(sql, `INSERT INTO snapshots (version) VALUES (?) ON CONFLICT (version) DO NOTHING`, version);
}

/**
 * The pointer now names `pointer` (0: the pointer was deleted): every snapshot below it, including
 * those written for versions whose pointer write was coalesced away, is superseded as of `now`.
 */
export function supersedeBelow(sql: Sql, pointer: number, now: number): void {
  if (pointer === 0) run(sql, `UPDATE snapshots SET superseded_at = ? WHERE superseded_at IS NULL`, now);
  else run(sql, `UPDATE snapshots SET superseded_at = ? WHERE superseded_at IS NULL AND version < ?`, now, pointer);
}

/** Up to `limit` versions whose grace period has passed and that are not waiting out a failed delete. */
export function dueSnapshots(sql: Sql, now: number, graceMs: number, limit: number): number[] {
  return all<{ version: number }>(
    sql,
    `SELECT version FROM snapshots
      WHERE superseded_at IS NOT NULL AND superseded_at + ? <= ? AND retry_at <= ?
      ORDER BY version LIMIT ?`,
    graceMs,
    now,
    now,
    limit,
  ).map((r) => r.version);
}

/** When the next deletion may run (ms since epoch), or undefined when none is pending. */
export function nextDeletionAt(sql: Sql, graceMs: number): number | undefined {
  return (
    first<{ at: number | null }>(
      sql,
      `SELECT MIN(MAX(superseded_at + ?, retry_at)) AS at FROM snapshots WHERE superseded_at IS NOT NULL`,
      graceMs,
    )?.at ?? undefined
  );
}

/** The snapshot is gone from KV. */
export function forgetSnapshot(sql: Sql, version: number): void {
  run(sql, `DELETE FROM snapshots WHERE version = ?`, version);
}

/** A delete failed: try again no earlier than `retryAt`. */
export function deferSnapshot(sql: Sql, version: number, retryAt: number): void {
  run(sql, `UPDATE snapshots SET retry_at = ? WHERE version = ?`, retryAt, version);
}
