/**
 * Current segments. The JSON row holds everything but the key lists; `included`/`excluded` are one
 * row per key in segment_keys, in immutable sets named by the version that wrote them, so a segment
 * of 100,000 keys stays far from the 2 MB row limit and an unchanged list is never rewritten.
 * @module
 */
import type { Segment } from "../../core/model";
import type { Stored, SegmentSummary } from "../../core/wire/store-rpc";
import { appendRevision } from "./revisions-repo";
import { clearBigKeys, restoreKeys } from "./big-segments-repo";
import { all, first, jsonChunks, run, type Sql } from "../sql";

type SegmentRow = { key: string; position: number; json: string; version: number; keys_version: number };

export interface KeySet {
  included: string[];
  excluded: string[];
}

export function readKeySet(sql: Sql, segment: string, setVersion: number): KeySet {
  const included: string[] = [];
  const excluded: string[] = [];
  const rows = all<{ kind: string; key: string }>(
    sql,
    `SELECT kind, key FROM segment_keys WHERE segment = ? AND set_version = ? ORDER BY rowid`,
    segment,
    setVersion,
  );
  for (const row of rows) (row.kind === "included" ? included : excluded).push(row.key);
  return { included, excluded };
}

/** Inserts a new key set in chunks: one bound JSON array per statement (`json_each`). */
export function writeKeySet(sql: Sql, segment: string, setVersion: number, keys: KeySet): void {
  for (const kind of ["included", "excluded"] as const) {
    for (const chunk of jsonChunks(keys[kind])) {
      run(
        sql,
        `INSERT INTO segment_keys (segment, set_version, kind, key) SELECT ?, ?, ?, value FROM json_each(?)`,
        segment,
        setVersion,
        kind,
        chunk,
      );
    }
  }
}

/** A segment from its stored body (the JSON without key lists) and its key lists. */
export function segmentFrom(json: string, keys: KeySet): Segment {
  const { key, description, rules, bigKeys } = JSON.parse(json) as Omit<Segment, "included" | "excluded">;
  return {
    key,
    ...(description === undefined ? {} : { description }),
    included: keys.included,
    excluded: keys.excluded,
    rules,
    ...(bigKeys ? { bigKeys } : {}),
  };
}

function assemble(row: SegmentRow, keys: KeySet): Stored<Segment> {
  return { ...segmentFrom(row.json, keys), version: row.version };
}

/** The segment's JSON without its key lists (what the segments row and revisions hold). */
export function segmentBody(segment: Segment): string {
  const { included: _i, excluded: _e, ...body } = segment;
  return JSON.stringify(body);
}

export function listSegments(sql: Sql): Stored<Segment>[] {
  return all<SegmentRow>(
    sql,
    `SELECT key, position, json, version, keys_version FROM segments ORDER BY position, key`,
  ).map((row) => assemble(row, readKeySet(sql, row.key, row.keys_version)));
}

/** Every segment with its key counts (counted in SQL, no key read): what a list page needs. */
export function listSegmentSummaries(sql: Sql): SegmentSummary[] {
  const rows = all<SegmentRow & { included: number; excluded: number }>(
    sql,
    `SELECT s.key, s.position, s.json, s.version, s.keys_version,
            (SELECT COUNT(*) FROM segment_keys k WHERE k.segment = s.key AND k.set_version = s.keys_version AND k.kind = 'included') AS included,
            (SELECT COUNT(*) FROM segment_keys k WHERE k.segment = s.key AND k.set_version = s.keys_version AND k.kind = 'excluded') AS excluded
     FROM segments s ORDER BY s.position, s.key`,
  );
  return rows.map((row) => {
    const { key, description, rules, bigKeys } = JSON.parse(row.json) as Omit<Segment, "included" | "excluded">;
    return {
      key,
      ...(description === undefined ? {} : { description }),
      includedCount: row.included,
      excludedCount: row.excluded,
      rules: rules.length,
      ...(bigKeys ? { keyCount: bigKeys.count } : {}),
      version: row.version,
    };
  });
}

export function getSegment(sql: Sql, key: string): Stored<Segment> | undefined {
  const row = first<SegmentRow>(
    sql,
    `SELECT key, position, json, version, keys_version FROM segments WHERE key = ?`,
    key,
  );
  return row && assemble(row, readKeySet(sql, row.key, row.keys_version));
}

/** Where a current segment sits, its ETag and its key set, without reading the keys. */
export function segmentPlace(
  sql: Sql,
  key: string,
): { position: number; version: number; keysVersion: number } | undefined {
  const row = first<{ position: number; version: number; keys_version: number }>(
    sql,
    `SELECT position, version, keys_version FROM segments WHERE key = ?`,
    key,
  );
  return row && { position: row.position, version: row.version, keysVersion: row.keys_version };
}

export function nextSegmentPosition(sql: Sql): number {
  return (first<{ p: number | null }>(sql, `SELECT MAX(position) AS p FROM segments`)?.p ?? -1) + 1;
}

/**
 * Writes a segment at `version`. `keysVersion`: an existing key set holding exactly the segment's
 * lists (unchanged lists, or rollback to an old set); absent → the lists are written as a new set.
 */
export function writeSegment(
  sql: Sql,
  segment: Segment,
  position: number,
  version: number,
  keysVersion?: number,
): void {
  const setVersion = keysVersion ?? version;
  if (keysVersion === undefined) writeKeySet(sql, segment.key, version, segment);
  const json = segmentBody(segment);
  run(
    sql,
    `INSERT INTO segments (key, position, json, version, keys_version) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET position = excluded.position, json = excluded.json, version = excluded.version, keys_version = excluded.keys_version`,
    segment.key,
    position,
    json,
    version,
    setVersion,
  );
  appendRevision(sql, "segment", segment.key, version, position, json, setVersion);
}

export function removeSegment(sql: Sql, key: string, version: number): void {
  run(sql, `DELETE FROM segments WHERE key = ?`, key);
  restoreKeys(sql, key, undefined, version);
  appendRevision(sql, "segment", key, version, null, null, null);
}

export function setSegmentPosition(sql: Sql, key: string, position: number): void {
  run(sql, `UPDATE segments SET position = ? WHERE key = ? AND position <> ?`, position, key, position);
}

export function countSegments(sql: Sql): number {
  return first<{ n: number }>(sql, `SELECT COUNT(*) AS n FROM segments`)!.n;
}

export function clearSegments(sql: Sql): void {
  run(sql, `DELETE FROM segments`);
  run(sql, `DELETE FROM segment_keys`);
  clearBigKeys(sql);
}
