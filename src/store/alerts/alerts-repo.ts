/**
 * Alert states, the environment's alert settings and when the alarm next evaluates them (schema
 * step 6). A state is one JSON row per alert id; only rows that changed are written.
 * @module
 */
import type { AlertSettings, AlertState } from "../../core/alerts";
import { all, first, run, type Sql } from "../sql";

/** Schema step 6 (schema.ts). */
export const ALERT_TABLES = [
  // The last state of each alert (one JSON row per alert id, so a restarted object never announces
  // a transition twice), the environment's settings and when the alarm next evaluates them
  // (next_at, ms since epoch; NULL: nothing to watch).
  `CREATE TABLE IF NOT EXISTS alert_states (id TEXT PRIMARY KEY, json TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS alerts_meta (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT, next_at INTEGER)`,
];

export function readAlertStates(sql: Sql): AlertState[] {
  return all<{ json: string }>(sql, `SELECT json FROM alert_states ORDER BY id`).map(
    (r) => JSON.parse(r.json) as AlertState,
  );
}

/** Makes the stored states equal `next`, writing only rows that differ from `previous`. */
export function writeAlertStates(sql: Sql, previous: readonly AlertState[], next: readonly AlertState[]): void {
  const before = new Map(previous.map((s) => [s.id, JSON.stringify(s)]));
  const kept = new Set<string>();
  for (const state of next) {
    kept.add(state.id);
    const json = JSON.stringify(state);
    if (before.get(state.id) === json) continue;
    run(
      sql,
      `INSERT INTO alert_states (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json`,
      state.id,
      json,
    );
  }
  for (const id of before.keys()) if (!kept.has(id)) run(sql, `DELETE FROM alert_states WHERE id = ?`, id);
}

function meta(sql: Sql): { settings: string | null; next_at: number | null } | undefined {
  return first<{ settings: string | null; next_at: number | null }>(
    sql,
    `SELECT settings, next_at FROM alerts_meta WHERE id = 1`,
  );
}

/** The stored overrides, or undefined when none were set. */
export function readAlertSettings(sql: Sql): Partial<AlertSettings> | undefined {
  const json = meta(sql)?.settings;
  return json ? (JSON.parse(json) as Partial<AlertSettings>) : undefined;
}

export function writeAlertSettings(sql: Sql, settings: AlertSettings): void {
  run(
    sql,
    `INSERT INTO alerts_meta (id, settings) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings`,
    JSON.stringify(settings),
  );
}

/** When the next evaluation is due (ms since epoch), if one is. */
export function nextEvaluationAt(sql: Sql): number | undefined {
  return meta(sql)?.next_at ?? undefined;
}

export function setNextEvaluation(sql: Sql, at: number | undefined): void {
  run(
    sql,
    `INSERT INTO alerts_meta (id, next_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET next_at = excluded.next_at`,
    at ?? null,
  );
}

export function clearAlerts(sql: Sql): void {
  run(sql, `DELETE FROM alert_states`);
  run(sql, `DELETE FROM alerts_meta`);
}
