/**
 * The environment's single meta row: name, version counter, document-level metadata and what KV
 * is known to hold.
 * @module
 */
import { first, run, type Sql } from "../sql";

export interface Meta {
  name: string;
  version: number;
  created: string;
  deleted: boolean;
  /** `{metadata?, evaluators?}` of the EnvironmentDoc, as JSON. */
  extra: string;
  /** The version the KV pointer is known to name (0: none). */
  publishedVersion: number;
  /** The newest version whose snapshot is known to be in KV. */
  snapshotVersion: number;
}

type MetaRow = {
  name: string;
  version: number;
  created: string;
  deleted: number;
  extra: string;
  published_version: number;
  snapshot_version: number;
};

export function readMeta(sql: Sql): Meta | undefined {
  const row = first<MetaRow>(
    sql,
    `SELECT name, version, created, deleted, extra, published_version, snapshot_version FROM meta WHERE id = 1`,
  );
  if (!row) return undefined;
  return {
    name: row.name,
    version: row.version,
    created: row.created,
    deleted: row.deleted === 1,
    extra: row.extra,
    publishedVersion: row.published_version,
    snapshotVersion: row.snapshot_version,
  };
}

export function insertMeta(sql: Sql, name: string, time: string): void {
  run(sql, `INSERT INTO meta (id, name, version, created) VALUES (1, ?, 0, ?)`, name, time);
}

/** Increments the version counter and returns the new version. */
export function bumpVersion(sql: Sql): number {
  run(sql, `UPDATE meta SET version = version + 1 WHERE id = 1`);
  return first<{ version: number }>(sql, `SELECT version FROM meta WHERE id = 1`)!.version;
}

export function setDocLevelJson(sql: Sql, extra: string): void {
  run(sql, `UPDATE meta SET extra = ? WHERE id = 1`, extra);
}

export function setDeleted(sql: Sql, deleted: boolean, created?: string): void {
  run(
    sql,
    `UPDATE meta SET deleted = ?, extra = '{}', created = coalesce(?, created) WHERE id = 1`,
    deleted ? 1 : 0,
    created ?? null,
  );
}

export function setPublished(sql: Sql, field: "published_version" | "snapshot_version", version: number): void {
  run(sql, `UPDATE meta SET ${field} = ? WHERE id = 1`, version);
}
