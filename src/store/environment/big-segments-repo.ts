/**
 * The SQL of big segments' keys (table big_segment_keys, schema.ts): one row per key and
 * membership span, `added`/`removed` being environment versions, so the current keys are the rows
 * with `removed` NULL and the keys at any version V are those with added <= V < removed.
 * @module
 */
import { shardRange, type BigKeyLookup } from "../../core/wire/big-segments";
import { all, first, jsonChunks, run, type Sql } from "../sql";

/** Of `keys`, those that are members now. */
export function currentMembers(sql: Sql, segment: string, keys: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const chunk of jsonChunks(keys)) {
    for (const row of all<{ key: string }>(
      sql,
      `SELECT key FROM big_segment_keys WHERE segment = ? AND removed IS NULL AND key IN (SELECT value FROM json_each(?))`,
      segment,
      chunk,
    )) {
      found.add(row.key);
    }
  }
  return found;
}

/** The current keys of shard `index` of `count` (one range of the hash index). */
export function shardKeys(sql: Sql, segment: string, index: number, count: number): string[] {
  const [from, to] = shardRange(index, count);
  return all<{ key: string }>(
    sql,
    `SELECT key FROM big_segment_keys WHERE segment = ? AND removed IS NULL AND h >= ? AND h < ?`,
    segment,
    from,
    to,
  ).map((r) => r.key);
}

/** Adds `[key, hash]` pairs (not members now) and ends the spans of `removed` (members now), at `version`. */
export function writeBatch(
  sql: Sql,
  segment: string,
  added: readonly (readonly [string, number])[],
  removed: readonly string[],
  version: number,
): void {
  for (let i = 0; i < added.length; i += 2_000) {
    run(
      sql,
      `INSERT INTO big_segment_keys (segment, key, h, added) SELECT ?, value ->> 0, value ->> 1, ? FROM json_each(?)`,
      segment,
      version,
      JSON.stringify(added.slice(i, i + 2_000)),
    );
  }
  for (const chunk of jsonChunks(removed)) {
    run(
      sql,
      `UPDATE big_segment_keys SET removed = ? WHERE segment = ? AND removed IS NULL AND key IN (SELECT value FROM json_each(?))`,
      version,
      segment,
      chunk,
    );
  }
}

/**
 * Makes the current keys those the segment had at version `at` (undefined: none), at `version`
 * (rollback, a segment replaced or deleted): spans opened after `at` end, spans open at `at`
 * that ended since are opened again.
 */
export function restoreKeys(sql: Sql, segment: string, at: number | undefined, version: number): void {
  if (at === undefined) {
    run(sql, `UPDATE big_segment_keys SET removed = ? WHERE segment = ? AND removed IS NULL`, version, segment);
    return;
  }
  run(
    sql,
    `UPDATE big_segment_keys SET removed = ? WHERE segment = ? AND removed IS NULL AND added > ?`,
    version,
    segment,
    at,
  );
  run(
    sql,
    `INSERT INTO big_segment_keys (segment, key, h, added)
              SELECT o.segment, o.key, o.h, ? FROM big_segment_keys o
               WHERE o.segment = ? AND o.added <= ? AND o.removed > ?
                 AND NOT EXISTS (SELECT 1 FROM big_segment_keys c WHERE c.segment = o.segment AND c.key = o.key AND c.removed IS NULL)`,
    version,
    segment,
    at,
    at,
  );
}

/** Current keys in key order after `after` (exclusive), at most `limit`. */
export function pageKeys(sql: Sql, segment: string, after: string | undefined, limit: number): string[] {
  return all<{ key: string }>(
    sql,
    `SELECT key FROM big_segment_keys WHERE segment = ? AND removed IS NULL AND key > ? ORDER BY key LIMIT ?`,
    segment,
    after ?? "",
    limit,
  ).map((r) => r.key);
}

/** Whether `key` is a member now (the store's own evaluations: explain). */
export function isMember(sql: Sql, segment: string, key: string): boolean {
  return (
    first(
      sql,
      `SELECT 1 AS x FROM big_segment_keys WHERE segment = ? AND removed IS NULL AND key = ?`,
      segment,
      key,
    ) !== undefined
  );
}

/** Membership from SQL, for the store's own evaluations (explain): one indexed lookup each. */
export function sqlMembership(sql: Sql): BigKeyLookup {
  return (segment) => (targetingKey) => isMember(sql, segment, targetingKey);
}

export function clearBigKeys(sql: Sql): void {
  run(sql, `DELETE FROM big_segment_keys`);
}
