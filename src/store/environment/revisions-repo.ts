/**
 * Every write of a flag, segment or the document-level metadata, kept so rollback can rebuild the
 * state at any version: the latest revision at or below N of each item (json NULL: deleted).
 * @module
 */
import { all, run, type Sql } from "../sql";

export type RevisionKind = "flag" | "segment" | "doc";

export interface Revision {
  kind: RevisionKind;
  key: string;
  position: number;
  json: string;
  keysVersion: number | null;
}

export function appendRevision(
  sql: Sql,
  kind: RevisionKind,
  key: string,
  version: number,
  position: number | null,
  json: string | null,
  keysVersion: number | null,
): void {
  run(
    sql,
    `INSERT INTO revisions (kind, key, version, position, json, keys_version) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, key, version) DO UPDATE SET position = excluded.position, json = excluded.json, keys_version = excluded.keys_version`,
    kind,
    key,
    version,
    position,
    json,
    keysVersion,
  );
}

/** The items that existed at `version`, each as last written at or before it, in position order. */
export function stateAt(sql: Sql, version: number): Revision[] {
  return all<{ kind: RevisionKind; key: string; position: number; json: string; keys_version: number | null }>(
    sql,
    `SELECT r.kind, r.key, r.position, r.json, r.keys_version
       FROM revisions r
       JOIN (SELECT kind, key, MAX(version) AS v FROM revisions WHERE version <= ? GROUP BY kind, key) last
         ON r.kind = last.kind AND r.key = last.key AND r.version = last.v
      WHERE r.json IS NOT NULL
      ORDER BY r.kind, r.position, r.key`,
    version,
  ).map((r) => ({ kind: r.kind, key: r.key, position: r.position, json: r.json, keysVersion: r.keys_version }));
}

export function clearRevisions(sql: Sql): void {
  run(sql, `DELETE FROM revisions`);
}
