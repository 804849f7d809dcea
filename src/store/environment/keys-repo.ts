/**
 * SDK keys of one environment. Only the SHA-256 hex of a key is stored (and a short display
 * prefix); the key itself is returned once by mintKey and never kept.
 * @module
 */
import type { KeyKind } from "../../core/wire/kv-layout";
import type { KeyInfo } from "../../core/wire/store-rpc";
import { all, first, run, type Sql } from "../sql";

type KeyRow = {
  id: string;
  kind: KeyKind;
  hash: string;
  prefix: string;
  created: string;
  revoked: string | null;
  kv_pending: number;
};

export interface StoredKey extends KeyInfo {
  hash: string;
  kvPending: boolean;
}

const toKey = (r: KeyRow): StoredKey => ({
  id: r.id,
  kind: r.kind,
  prefix: r.prefix,
  createdAt: r.created,
  ...(r.revoked === null ? {} : { revokedAt: r.revoked }),
  hash: r.hash,
  kvPending: r.kv_pending === 1,
});

export function insertKey(
  sql: Sql,
  key: { id: string; kind: KeyKind; hash: string; prefix: string; created: string; actor: string },
): void {
  run(
    sql,
    `INSERT INTO sdk_keys (id, kind, hash, prefix, created, created_by, kv_pending) VALUES (?, ?, ?, ?, ?, ?, 1)`,
    key.id,
    key.kind,
    key.hash,
    key.prefix,
    key.created,
    key.actor,
  );
}

export function listKeys(sql: Sql): StoredKey[] {
  return all<KeyRow>(sql, `SELECT * FROM sdk_keys ORDER BY created, id`).map(toKey);
}

export function getKey(sql: Sql, id: string): StoredKey | undefined {
  const row = first<KeyRow>(sql, `SELECT * FROM sdk_keys WHERE id = ?`, id);
  return row && toKey(row);
}

/** Marks one key (or, without id, every key) revoked; its KV record must be rewritten. */
export function revokeKeys(sql: Sql, time: string, actor: string, id?: string): void {
  const set = `UPDATE sdk_keys SET revoked = coalesce(revoked, ?), revoked_by = coalesce(revoked_by, ?), kv_pending = 1`;
  if (id === undefined) run(sql, set, time, actor);
  else run(sql, set + ` WHERE id = ?`, time, actor, id);
}

export function pendingKeys(sql: Sql): StoredKey[] {
  return all<KeyRow>(sql, `SELECT * FROM sdk_keys WHERE kv_pending = 1`).map(toKey);
}

/** The KV record was written as `revoked`; clear pending unless the key changed since. */
export function markKeyPublished(sql: Sql, id: string, revoked: boolean): void {
  run(sql, `UPDATE sdk_keys SET kv_pending = 0 WHERE id = ? AND (revoked IS NOT NULL) = ?`, id, revoked ? 1 : 0);
}

export function markAllKeysPending(sql: Sql): void {
  run(sql, `UPDATE sdk_keys SET kv_pending = 1`);
}
