/**
 * Change requests: the info shown back, and the payload that applying writes, kept in chunks so a
 * whole flagd import fits under SQLite's 2 MB value limit.
 * @module
 */
import type { ChangeRequestInfo } from "../../core/wire/releases-rpc";
import { all, first, run, type Sql } from "../sql";
import { deleteHeldKeys } from "./held-keys-repo";

/** UTF-16 units per payload chunk: at most 3 UTF-8 bytes each, so a chunk stays below 2 MB. */
const CHUNK = 600_000;
/** Pending requests per environment, as schedules are bounded (schedules-repo.ts): more answers 409 until some close. */
export const MAX_PENDING_CHANGE_REQUESTS = 1000;
export const LIST_DEFAULT_LIMIT = 200;
export const LIST_MAX_LIMIT = 500;

/** Part of schema step 3 (schema.ts). */
export const CHANGE_REQUEST_TABLES = [
  // info: the ChangeRequestInfo shown back; its payload (what applying writes, possibly a whole
  // flagd import) is kept in chunks below SQLite's 2 MB value limit.
  `CREATE TABLE IF NOT EXISTS change_requests (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, info TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS change_requests_status ON change_requests (status, seq)`,
  `CREATE TABLE IF NOT EXISTS change_request_payloads (id TEXT NOT NULL, part INTEGER NOT NULL, chunk TEXT NOT NULL, PRIMARY KEY (id, part))`,
];

export function insertChangeRequest(sql: Sql, info: ChangeRequestInfo, payload: unknown): void {
  const seq = (first<{ s: number | null }>(sql, `SELECT MAX(seq) AS s FROM change_requests`)?.s ?? 0) + 1;
  run(
    sql,
    `INSERT INTO change_requests (id, seq, status, info) VALUES (?, ?, ?, ?)`,
    info.id,
    seq,
    info.status,
    JSON.stringify(info),
  );
  const json = JSON.stringify(payload);
  for (let part = 0; part * CHUNK < json.length; part++) {
    run(
      sql,
      `INSERT INTO change_request_payloads (id, part, chunk) VALUES (?, ?, ?)`,
      info.id,
      part,
      json.slice(part * CHUNK, (part + 1) * CHUNK),
    );
  }
}

export function getChangeRequest(sql: Sql, id: string): ChangeRequestInfo | undefined {
  const row = first<{ info: string }>(sql, `SELECT info FROM change_requests WHERE id = ?`, id);
  return row && (JSON.parse(row.info) as ChangeRequestInfo);
}

export function readPayload<T>(sql: Sql, id: string): T {
  const parts = all<{ chunk: string }>(sql, `SELECT chunk FROM change_request_payloads WHERE id = ? ORDER BY part`, id);
  return JSON.parse(parts.map((p) => p.chunk).join("")) as T;
}

/** Saves the new info; a closed request's payload (and held keys) are no longer needed. */
export function updateChangeRequest(sql: Sql, info: ChangeRequestInfo): void {
  run(sql, `UPDATE change_requests SET status = ?, info = ? WHERE id = ?`, info.status, JSON.stringify(info), info.id);
  if (info.status === "pending") return;
  run(sql, `DELETE FROM change_request_payloads WHERE id = ?`, info.id);
  deleteHeldKeys(sql, info.id);
}

export function countPending(sql: Sql): number {
  return first<{ n: number }>(sql, `SELECT COUNT(*) AS n FROM change_requests WHERE status = 'pending'`)!.n;
}

/** Newest first; `before` excludes that position and newer. `next` is the `before` of the next page. */
export function pageChangeRequests(
  sql: Sql,
  status: ChangeRequestInfo["status"] | undefined,
  before: number | undefined,
  limit: number | undefined,
): { changeRequests: ChangeRequestInfo[]; next?: number } {
  const size = Math.min(Math.max(Math.trunc(limit ?? LIST_DEFAULT_LIMIT), 1), LIST_MAX_LIMIT);
  const below = before ?? Number.MAX_SAFE_INTEGER;
  const rows =
    status === undefined
      ? all<{ seq: number; info: string }>(
          sql,
          `SELECT seq, info FROM change_requests WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
          below,
          size + 1,
        )
      : all<{ seq: number; info: string }>(
          sql,
          `SELECT seq, info FROM change_requests WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
          status,
          below,
          size + 1,
        );
  const changeRequests = rows.slice(0, size).map((r) => JSON.parse(r.info) as ChangeRequestInfo);
  return rows.length > size ? { changeRequests, next: rows[size - 1]!.seq } : { changeRequests };
}

export function clearChangeRequests(sql: Sql): void {
  run(sql, `DELETE FROM change_requests`);
  run(sql, `DELETE FROM change_request_payloads`);
  deleteHeldKeys(sql);
}
