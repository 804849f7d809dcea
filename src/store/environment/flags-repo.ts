/**
 * Current flags, one JSON row each, in definition order (`position`). Every write also appends a
 * revision so rollback can find it again.
 * @module
 */
import type { Flag } from "../../core/model";
import type { Stored } from "../../core/wire/store-rpc";
import { appendRevision } from "./revisions-repo";
import { all, first, run, type Sql } from "../sql";

type FlagRow = { key: string; position: number; json: string; version: number };

const toStored = (row: FlagRow): Stored<Flag> => ({ ...(JSON.parse(row.json) as Flag), version: row.version });

export function listFlags(sql: Sql): Stored<Flag>[] {
  return all<FlagRow>(sql, `SELECT key, position, json, version FROM flags ORDER BY position, key`).map(toStored);
}

export function getFlag(sql: Sql, key: string): Stored<Flag> | undefined {
  const row = first<FlagRow>(sql, `SELECT key, position, json, version FROM flags WHERE key = ?`, key);
  return row && toStored(row);
}

export function flagPosition(sql: Sql, key: string): number | undefined {
  return first<{ position: number }>(sql, `SELECT position FROM flags WHERE key = ?`, key)?.position;
}

/** Where a new flag goes: after every existing one. */
export function nextFlagPosition(sql: Sql): number {
  return (first<{ p: number | null }>(sql, `SELECT MAX(position) AS p FROM flags`)?.p ?? -1) + 1;
}

export function writeFlag(sql: Sql, flag: Flag, position: number, version: number): void {
  const json = JSON.stringify(flag);
  run(
    sql,
    `INSERT INTO flags (key, position, json, version) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET position = excluded.position, json = excluded.json, version = excluded.version`,
    flag.key,
    position,
    json,
    version,
  );
  appendRevision(sql, "flag", flag.key, version, position, json, null);
}

export function removeFlag(sql: Sql, key: string, version: number): void {
  run(sql, `DELETE FROM flags WHERE key = ?`, key);
  appendRevision(sql, "flag", key, version, null, null, null);
}

/** Reordering is not a change of the flag: no revision, no new ETag. */
export function setFlagPosition(sql: Sql, key: string, position: number): void {
  run(sql, `UPDATE flags SET position = ? WHERE key = ? AND position <> ?`, position, key, position);
}

export function countFlags(sql: Sql): number {
  return first<{ n: number }>(sql, `SELECT COUNT(*) AS n FROM flags`)!.n;
}

export function clearFlags(sql: Sql): void {
  run(sql, `DELETE FROM flags`);
}
