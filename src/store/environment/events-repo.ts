/**
 * Audit entries of steps that make no environment version (change request approved or rejected,
 * schedule cancelled, plan paused, policy changed, environment deleted), and the history that merges them
 * with the one-row-per-version audit log.
 * @module
 */
import type { HistoryEntry } from "../../core/wire/store-rpc";
import { pageAudit } from "./audit-repo";
import { all, run, type Sql } from "../sql";

/** Part of schema step 3 (schema.ts), written with the releases: the table keeps its name. */
export const EVENT_TABLES = [
  // Audit entries of steps that make no environment version (a change request approved, a
  // schedule cancelled, a plan paused, the policy changed, the environment deleted): `version` is
  // the environment version current when it happened. The history merges them with the version
  // rows of the audit table.
  `CREATE TABLE IF NOT EXISTS release_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL, time TEXT NOT NULL, actor TEXT NOT NULL,
     operation TEXT NOT NULL, target TEXT, diff TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS release_events_version ON release_events (version)`,
];

type EventRow = {
  version: number;
  time: string;
  actor: string;
  operation: string;
  target: string | null;
  diff: string;
};

export function appendEvent(sql: Sql, entry: Omit<HistoryEntry, "time"> & { time?: string }): void {
  run(
    sql,
    `INSERT INTO release_events (version, time, actor, operation, target, diff) VALUES (?, ?, ?, ?, ?, ?)`,
    entry.version,
    entry.time ?? new Date().toISOString(),
    entry.actor,
    entry.operation,
    entry.target ?? null,
    JSON.stringify(entry.diff ?? null),
  );
}

/**
 * One page of the audit log with the events in between, newest first. An event happened while the
 * environment was at its `version`, so it sorts after that version's row. The pages of version
 * rows split the version range ([last row, before)); each page carries the events of its range,
 * so every event is on exactly one page, and `next` pages as before.
 */
export function pageHistory(
  sql: Sql,
  before: number | undefined,
  limit: number | undefined,
): { entries: HistoryEntry[]; next?: number } {
  const page = pageAudit(sql, before, limit);
  const low = page.next === undefined ? 0 : page.entries[page.entries.length - 1]!.version;
  const events = all<EventRow>(
    sql,
    `SELECT version, time, actor, operation, target, diff FROM release_events WHERE version >= ? AND version < ? ORDER BY seq DESC LIMIT 1000`,
    low,
    before ?? Number.MAX_SAFE_INTEGER,
  );
  if (events.length === 0) return page;
  const merged: HistoryEntry[] = [];
  let e = 0;
  for (const row of page.entries) {
    while (e < events.length && events[e]!.version >= row.version) merged.push(toEntry(events[e++]!));
    merged.push(row);
  }
  while (e < events.length) merged.push(toEntry(events[e++]!));
  return page.next === undefined ? { entries: merged } : { entries: merged, next: page.next };
}

/** `event: true`: no version of its own (`version` is the one current then), so nothing to roll back to. */
function toEntry(r: EventRow): HistoryEntry {
  return {
    version: r.version,
    event: true,
    time: r.time,
    actor: r.actor,
    operation: r.operation,
    ...(r.target === null ? {} : { target: r.target }),
    diff: JSON.parse(r.diff),
  };
}
