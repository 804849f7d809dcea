/**
 * What flag status needs from the definitions side: when each current flag was created (since its
 * last deletion) and last changed, from the revisions and the audit log; and the environment's
 * lifecycle settings (one JSON row, schema.ts version 3).
 * @module
 */
import type { LifecycleSettings } from "../../core/lifecycle";
import { all, first, run, type Sql } from "../sql";

export interface FlagTimes {
  /** ms since epoch */
  createdAt: number;
  changedAt: number;
}

/** Every current flag's times, or (with `key`) that one flag's. */
export function flagTimes(sql: Sql, key?: string): Map<string, FlagTimes> {
  const rows = all<{ key: string; created: string | null; changed: string | null }>(
    sql,
    `SELECT f.key,
            (SELECT a.time FROM audit a WHERE a.version = (
               SELECT min(r.version) FROM revisions r
                WHERE r.kind = 'flag' AND r.key = f.key AND r.version > coalesce(
                  (SELECT max(d.version) FROM revisions d WHERE d.kind = 'flag' AND d.key = f.key AND d.json IS NULL), 0))) AS created,
            (SELECT a.time FROM audit a WHERE a.version = f.version) AS changed
       FROM flags f${key === undefined ? "" : " WHERE f.key = ?"}`,
    ...(key === undefined ? [] : [key]),
  );
  const out = new Map<string, FlagTimes>();
  for (const r of rows) {
    const changedAt = r.changed ? Date.parse(r.changed) : Date.now();
    out.set(r.key, { createdAt: r.created ? Date.parse(r.created) : changedAt, changedAt });
  }
  return out;
}

/** The stored overrides (partial), or undefined when none were set. */
export function readLifecycleSettings(sql: Sql): Partial<LifecycleSettings> | undefined {
  const json = first<{ json: string }>(sql, `SELECT json FROM lifecycle_settings WHERE id = 1`)?.json;
  return json === undefined ? undefined : (JSON.parse(json) as Partial<LifecycleSettings>);
}

export function writeLifecycleSettings(sql: Sql, settings: LifecycleSettings): void {
  run(
    sql,
    `INSERT INTO lifecycle_settings (id, json) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json`,
    JSON.stringify(settings),
  );
}

export function clearLifecycleSettings(sql: Sql): void {
  run(sql, `DELETE FROM lifecycle_settings`);
}
