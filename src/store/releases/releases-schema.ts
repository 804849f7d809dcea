/**
 * Tables of scheduled changes, release plans, the approval policy and change requests (one step
 * of schema.ts). IF NOT EXISTS: a store taken back to an older schema version re-runs the step.
 * Times the alarm compares are ms since epoch; times shown back are ISO strings.
 * @module
 */
export const RELEASES_TABLES = [
  `CREATE TABLE IF NOT EXISTS schedules (
     id TEXT PRIMARY KEY, at INTEGER NOT NULL, flag TEXT NOT NULL, patch TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'cancelled')),
     created TEXT NOT NULL, created_by TEXT NOT NULL,
     version INTEGER, error TEXT, closed TEXT, cancelled_by TEXT)`,
  `CREATE INDEX IF NOT EXISTS schedules_pending ON schedules (at) WHERE status = 'pending'`,
  // One plan per flag (the latest); json is the PlanInfo plus the split it started from.
  // next_at: when the next step is due, NULL unless running.
  `CREATE TABLE IF NOT EXISTS plans (flag TEXT PRIMARY KEY, json TEXT NOT NULL, next_at INTEGER)`,
  `CREATE TABLE IF NOT EXISTS policy (id INTEGER PRIMARY KEY CHECK (id = 1), approvals INTEGER NOT NULL)`,
  // info: the ChangeRequestInfo shown back; its payload (what applying writes, possibly a whole
  // flagd import) is kept in chunks below SQLite's 2 MB value limit.
  `CREATE TABLE IF NOT EXISTS change_requests (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, info TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS change_requests_status ON change_requests (status, seq)`,
  `CREATE TABLE IF NOT EXISTS change_request_payloads (id TEXT NOT NULL, part INTEGER NOT NULL, chunk TEXT NOT NULL, PRIMARY KEY (id, part))`,
  // Audit entries of steps that make no environment version (a change request approved, a
  // schedule cancelled, a plan paused, the policy changed): `version` is the environment version
  // current when it happened. The history merges them with the version rows of the audit table.
  `CREATE TABLE IF NOT EXISTS release_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL, time TEXT NOT NULL, actor TEXT NOT NULL,
     operation TEXT NOT NULL, target TEXT, diff TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS release_events_version ON release_events (version)`,
];
