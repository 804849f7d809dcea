/**
 * Scheduled changes: one row each, `pending` until the alarm applies it (or it fails, or is
 * cancelled). Rows are kept afterwards as the schedule's record.
 * @module
 */
import type { ScheduleInfo } from "../../core/wire/releases-rpc";
import { all, first, run, type Sql } from "../sql";

type ScheduleRow = {
  id: string;
  at: number;
  flag: string;
  patch: string;
  status: ScheduleInfo["status"];
  created: string;
  created_by: string;
  version: number | null;
  error: string | null;
  closed: string | null;
  cancelled_by: string | null;
};

/** Most schedules listed (newest first); pending ones are always listed. */
const LIST_LIMIT = 500;
export const MAX_PENDING_SCHEDULES = 1000;

/**
 * Part of schema step 3 (schema.ts). IF NOT EXISTS: a store taken back to an older schema version
 * re-runs the step. `at` is ms since epoch (the alarm compares it); times shown back are ISO strings.
 */
export const SCHEDULE_TABLES = [
  `CREATE TABLE IF NOT EXISTS schedules (
     id TEXT PRIMARY KEY, at INTEGER NOT NULL, flag TEXT NOT NULL, patch TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'cancelled')),
     created TEXT NOT NULL, created_by TEXT NOT NULL,
     version INTEGER, error TEXT, closed TEXT, cancelled_by TEXT)`,
  `CREATE INDEX IF NOT EXISTS schedules_pending ON schedules (at) WHERE status = 'pending'`,
];

function toInfo(r: ScheduleRow): ScheduleInfo {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    flag: r.flag,
    patch: JSON.parse(r.patch) as Record<string, unknown>,
    status: r.status,
    createdBy: r.created_by,
    createdAt: r.created,
    ...(r.version === null ? {} : { version: r.version }),
    ...(r.error === null ? {} : { error: r.error }),
    ...(r.closed === null ? {} : { closedAt: r.closed }),
    ...(r.cancelled_by === null ? {} : { cancelledBy: r.cancelled_by }),
  };
}

const COLUMNS = `id, at, flag, patch, status, created, created_by, version, error, closed, cancelled_by`;

export function insertSchedule(
  sql: Sql,
  s: { id: string; at: number; flag: string; patch: unknown; created: string; createdBy: string },
): void {
  run(
    sql,
    `INSERT INTO schedules (id, at, flag, patch, status, created, created_by) VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
    s.id,
    s.at,
    s.flag,
    JSON.stringify(s.patch),
    s.created,
    s.createdBy,
  );
}

export function getSchedule(sql: Sql, id: string): ScheduleInfo | undefined {
  const row = first<ScheduleRow>(sql, `SELECT ${COLUMNS} FROM schedules WHERE id = ?`, id);
  return row && toInfo(row);
}

/** Pending ones by time first, then the rest newest first. */
export function listSchedules(sql: Sql): ScheduleInfo[] {
  const pending = all<ScheduleRow>(
    sql,
    `SELECT ${COLUMNS} FROM schedules WHERE status = 'pending' ORDER BY at, created`,
  );
  const closed = all<ScheduleRow>(
    sql,
    `SELECT ${COLUMNS} FROM schedules WHERE status <> 'pending' ORDER BY at DESC LIMIT ?`,
    LIST_LIMIT,
  );
  return [...pending, ...closed].map(toInfo);
}

export function countPending(sql: Sql): number {
  return first<{ n: number }>(sql, `SELECT COUNT(*) AS n FROM schedules WHERE status = 'pending'`)!.n;
}

/** Pending schedules due at `now`, in time order. */
export function dueSchedules(sql: Sql, now: number): ScheduleInfo[] {
  return all<ScheduleRow>(
    sql,
    `SELECT ${COLUMNS} FROM schedules WHERE status = 'pending' AND at <= ? ORDER BY at, created`,
    now,
  ).map(toInfo);
}

export function nextScheduleAt(sql: Sql): number | undefined {
  return (
    first<{ at: number | null }>(sql, `SELECT MIN(at) AS at FROM schedules WHERE status = 'pending'`)?.at ?? undefined
  );
}

export function closeSchedule(
  sql: Sql,
  id: string,
  status: "applied" | "failed" | "cancelled",
  time: string,
  detail: { version?: number; error?: string; by?: string },
): void {
  run(
    sql,
    `UPDATE schedules SET status = ?, closed = ?, version = ?, error = ?, cancelled_by = ? WHERE id = ? AND status = 'pending'`,
    status,
    time,
    detail.version ?? null,
    detail.error ?? null,
    detail.by ?? null,
    id,
  );
}

export function clearSchedules(sql: Sql): void {
  run(sql, `DELETE FROM schedules`);
}
