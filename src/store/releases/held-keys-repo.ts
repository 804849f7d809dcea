/**
 * The keys of a held big-segment batch (`POST …/segments/{key}/keys` under an approval policy):
 * kept beside its change request, never in its payload or listing, in rows of bounded size (a
 * 100,000-key batch as one value would pass SQLite's 2 MB limit). Deleted when the request closes.
 * @module
 */
import type { KeyBatch } from "../../core/wire/big-segments";
import { all, jsonChunks, run, type Sql } from "../sql";

/** Part of schema step 8 (schema.ts). */
export const HELD_KEY_TABLES = [
  // keys: a JSON array of at most 90,000 UTF-16 units (sql.ts jsonChunks), well below the limits.
  `CREATE TABLE IF NOT EXISTS change_request_keys (id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('add', 'remove')), part INTEGER NOT NULL, keys TEXT NOT NULL,
     PRIMARY KEY (id, kind, part))`,
];

/** Keeps the keys of request `id`. Call inside the transaction that opens it. */
export function writeHeldKeys(sql: Sql, id: string, keys: KeyBatch): void {
  for (const kind of ["add", "remove"] as const) {
    jsonChunks(keys[kind]).forEach((chunk, part) =>
      run(sql, `INSERT INTO change_request_keys (id, kind, part, keys) VALUES (?, ?, ?, ?)`, id, kind, part, chunk),
    );
  }
}

export function readHeldKeys(sql: Sql, id: string): KeyBatch {
  const keys: KeyBatch = { add: [], remove: [] };
  for (const row of all<{ kind: keyof KeyBatch; keys: string }>(
    sql,
    `SELECT kind, keys FROM change_request_keys WHERE id = ? ORDER BY kind, part`,
    id,
  )) {
    keys[row.kind].push(...(JSON.parse(row.keys) as string[]));
  }
  return keys;
}

export function deleteHeldKeys(sql: Sql, id?: string): void {
  if (id === undefined) run(sql, `DELETE FROM change_request_keys`);
  else run(sql, `DELETE FROM change_request_keys WHERE id = ?`, id);
}
