/**
 * The append-only audit log: exactly one row per environment version. It is never cleared, not
 * even by deleting the environment (a re-created one continues it).
 * @module
 */
import type { HistoryEntry } from "../../core/wire/store-rpc";
import { all, first, run, type Sql } from "../sql";

type AuditRow = {
  version: number;
  time: string;
  actor: string;
  operation: string;
  target: string | null;
  diff: string;
};

export function appendAudit(sql: Sql, entry: HistoryEntry): void {
  run(
    sql,
    `INSERT INTO audit (version, time, actor, operation, target, diff) VALUES (?, ?, ?, ?, ?, ?)`,
    entry.version,
    entry.time,
    entry.actor,
    entry.operation,
    entry.target ?? null,
    JSON.stringify(entry.diff ?? null),
  );
}

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;

/** Newest first; `before` excludes that version and newer. `next` is the `before` of the next page. */
export function pageAudit(
  sql: Sql,
  before: number | undefined,
  limit: number | undefined,
): { entries: HistoryEntry[]; next?: number } {
  const size = Math.min(Math.max(Math.trunc(limit ?? HISTORY_DEFAULT_LIMIT), 1), HISTORY_MAX_LIMIT);
  const rows = all<AuditRow>(
    sql,
    `SELECT version, time, actor, operation, target, diff FROM audit WHERE version < ? ORDER BY version DESC LIMIT ?`,
    before ?? Number.MAX_SAFE_INTEGER,
    size + 1,
  );
  const entries = rows.slice(0, size).map(
    (r): HistoryEntry => ({
      version: r.version,
      time: r.time,
      actor: r.actor,
      operation: r.operation,
      ...(r.target === null ? {} : { target: r.target }),
      diff: JSON.parse(r.diff),
    }),
  );
  return rows.length > size ? { entries, next: entries[entries.length - 1].version } : { entries };
}

/** The commit time of a version, or undefined when it is not in the log. */
export function auditTime(sql: Sql, version: number): string | undefined {
  return first<{ time: string }>(sql, `SELECT time FROM audit WHERE version = ?`, version)?.time;
}

/**
 * The version that (re-)created the environment now live. The log outlives a delete (rows of
 * earlier generations stay readable), but their definitions are gone: nothing rolls back past it.
 */
export function generationStart(sql: Sql): number {
  return (
    first<{ v: number | null }>(sql, `SELECT MAX(version) AS v FROM audit WHERE operation = 'environment.create'`)?.v ??
    0
  );
}
