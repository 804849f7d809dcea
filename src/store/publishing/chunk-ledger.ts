/**
 * The chunks of partitioned snapshots (core/wire/snapshot-chunks.ts) this environment has in KV,
 * and when each stopped being named by the newest root. A commit puts only the chunks the ledger
 * does not have; a chunk no newer root names is deleted once every root that named it is gone.
 *
 * Rows: `stored` (the put has landed; 0 while it is under way, so a put that lands but fails to
 * answer is still known and deleted later) and `retired` (the first written version whose root
 * does not name it; NULL while the newest written root does). Roots are versioned snapshots, kept
 * for the grace period after the pointer moves past them (snapshot-gc.ts), so "no root below
 * `retired` is left" is the retention rule, with no clock of its own: a reader that has read any
 * root still in KV finds every chunk it names. Content addressing means a retired chunk can be
 * named again (a flag toggled back): it is revived, and re-put if it was deleted meanwhile.
 * Deletion runs in the publisher's lane (`Publisher.inLane`), never between a ledger check and a put.
 * @module
 */
import { all, first, run, type Sql } from "../sql";

/** Deletes per alarm run, like snapshot deletion. */
export const CHUNK_DELETES_PER_RUN = 100;

interface ChunkRow {
  stored: boolean;
  retired: number | null;
}

export class ChunkLedger {
  /** The table in memory, read once per object lifetime: a commit's check costs no row reads. */
  private rows: Map<string, ChunkRow> | undefined;

  constructor(private readonly sql: Sql) {}

  private table(): Map<string, ChunkRow> {
    return (this.rows ??= new Map(
      all<{ id: string; stored: number; retired: number | null }>(
        this.sql,
        `SELECT id, stored, retired FROM chunks`,
      ).map((r) => [r.id, { stored: r.stored === 1, retired: r.retired }]),
    ));
  }

  /** The ids among `ids` that KV does not hold (or may not). */
  lacking(ids: Iterable<string>): string[] {
    const rows = this.table();
    return [...ids].filter((id) => !rows.get(id)?.stored);
  }

  /** Before their puts: known from now on, so they are collected even if an answer is lost. */
  writing(ids: readonly string[]): void {
    const rows = this.table();
    for (const id of ids) {
      if (rows.has(id)) continue;
      run(this.sql, `INSERT INTO chunks (id, stored) VALUES (?, 0) ON CONFLICT (id) DO NOTHING`, id);
      rows.set(id, { stored: false, retired: null });
    }
  }

  /**
   * Version `version`'s root is about to be written naming exactly `ids`, all now in KV: they are
   * stored and live; every other live chunk is retired as of `version`. Writes rows only for
   * chunks whose state changes: a one-flag change writes two or three.
   */
  written(version: number, ids: ReadonlySet<string>): void {
    const rows = this.table();
    for (const [id, row] of rows) {
      const named = ids.has(id);
      if (named && (!row.stored || row.retired !== null)) {
        run(this.sql, `UPDATE chunks SET stored = 1, retired = NULL WHERE id = ?`, id);
        rows.set(id, { stored: true, retired: null });
      } else if (!named && row.retired === null) {
        run(this.sql, `UPDATE chunks SET retired = ? WHERE id = ?`, version, id);
        rows.set(id, { ...row, retired: version });
      }
    }
  }

  /** KV is to be rebuilt from the object alone (republish): every chunk is put again. */
  unstoreAll(): void {
    run(this.sql, `UPDATE chunks SET stored = 0`);
    this.rows = undefined;
  }

  /** The environment was deleted: every chunk retires once the roots written so far are gone. */
  retireAll(afterVersion: number): void {
    run(this.sql, `UPDATE chunks SET retired = ? WHERE retired IS NULL`, afterVersion + 1);
    for (const [id, row] of this.table())
      if (row.retired === null) this.table().set(id, { ...row, retired: afterVersion + 1 });
  }

  /** Retired chunks no remaining root can name: every root below their retirement is deleted. */
  due(limit = CHUNK_DELETES_PER_RUN): string[] {
    return all<{ id: string }>(
      this.sql,
      `SELECT id FROM chunks WHERE retired IS NOT NULL
          AND retired <= COALESCE((SELECT MIN(version) FROM snapshots), retired) LIMIT ?`,
      limit,
    ).map((r) => r.id);
  }

  /** Whether a deletion is due now (the alarm then runs again soon). */
  anyDue(): boolean {
    return (
      first<{ n: number }>(
        this.sql,
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM chunks WHERE retired IS NOT NULL
          AND retired <= COALESCE((SELECT MIN(version) FROM snapshots), retired) LIMIT 1)`,
      )!.n > 0
    );
  }

  /** The chunk is gone from KV. */
  forget(id: string): void {
    run(this.sql, `DELETE FROM chunks WHERE id = ?`, id);
    this.table().delete(id);
  }
}
