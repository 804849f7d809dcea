/**
 * The schema version row and its migration steps. Each concept's tables are declared beside its
 * repo (releases/*-repo.ts, webhooks-repo.ts, alerts-repo.ts, events-repo.ts) and listed here in
 * the step that created them; a step's statements and their order never change once released,
 * because stored databases replay exactly the steps they lack. `migrate` runs inside `blockConcurrencyWhile`
 * in each constructor; when the stored version equals the current one it issues no DDL.
 * @module
 */
import { ALERT_TABLES } from "./alerts/alerts-repo";
import { EVENT_TABLES } from "./environment/events-repo";
import { CHANGE_REQUEST_TABLES } from "./releases/change-requests-repo";
import { HELD_KEY_TABLES } from "./releases/held-keys-repo";
import { POLICY_TABLES } from "./releases/policy-repo";
import { PLAN_TABLES } from "./releases/rollout-plans-repo";
import { SCHEDULE_TABLES } from "./releases/schedules-repo";
import { WEBHOOK_TABLES } from "./webhooks/webhooks-repo";
import { first, run, type Sql } from "./sql";

export const STORE_SCHEMA_VERSION = 9;
export const REGISTRY_SCHEMA_VERSION = 2;

const STORE_V1 = [
  // One row: the environment's name and version counter. `deleted` keeps the counter after
  // destroy(), so a re-created environment never reuses a version number (KV snapshots are
  // immutable per version). published_version/snapshot_version: what KV is known to hold.
  `CREATE TABLE meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     name TEXT NOT NULL,
     version INTEGER NOT NULL,
     created TEXT NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     extra TEXT NOT NULL DEFAULT '{}',
     published_version INTEGER NOT NULL DEFAULT 0,
     snapshot_version INTEGER NOT NULL DEFAULT 0)`,
  // Current definitions. `version` is the environment version of the item's last change (ETag).
  `CREATE TABLE flags (key TEXT PRIMARY KEY, position INTEGER NOT NULL, json TEXT NOT NULL, version INTEGER NOT NULL)`,
  // Segment JSON without its key lists; those live one row per key in segment_keys, grouped in
  // immutable sets named by the version that wrote them (keys_version), so a 100k-key segment
  // never meets the 2 MB row limit and rollback can point back at an old set without copying it.
  `CREATE TABLE segments (key TEXT PRIMARY KEY, position INTEGER NOT NULL, json TEXT NOT NULL, version INTEGER NOT NULL, keys_version INTEGER NOT NULL)`,
  `CREATE TABLE segment_keys (segment TEXT NOT NULL, set_version INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('included', 'excluded')), key TEXT NOT NULL)`,
  `CREATE INDEX segment_keys_set ON segment_keys (segment, set_version)`,
  // Append-only: every write of a flag, segment or the document-level metadata (kind 'doc'),
  // json NULL for a delete. The state at version N is the latest revision <= N of each item.
  `CREATE TABLE revisions (
     kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
     position INTEGER, json TEXT, keys_version INTEGER,
     PRIMARY KEY (kind, key, version))`,
  // Append-only audit log, exactly one row per environment version.
  `CREATE TABLE audit (version INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, operation TEXT NOT NULL, target TEXT, diff TEXT NOT NULL)`,
  // SDK keys: only the SHA-256 of the key is kept. kv_pending: the KV key record still needs writing.
  `CREATE TABLE sdk_keys (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('client', 'server')),
     hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created TEXT NOT NULL, created_by TEXT NOT NULL,
     revoked TEXT, revoked_by TEXT, kv_pending INTEGER NOT NULL DEFAULT 1)`,
];

const STORE_V2 = [
  // KV snapshots this object wrote and has not yet deleted. superseded_at (ms since epoch, NULL
  // while the pointer may still name it or a newer one is not yet pointed at): when the pointer
  // moved past it; it is deleted once a grace period later (snapshot-gc.ts). retry_at: not
  // before then, after a failed KV delete.
  `CREATE TABLE snapshots (version INTEGER PRIMARY KEY, superseded_at INTEGER, retry_at INTEGER NOT NULL DEFAULT 0)`,
  `CREATE INDEX snapshots_superseded ON snapshots (superseded_at) WHERE superseded_at IS NOT NULL`,
  // Objects from schema 1 never deleted a snapshot: every version below the pointer (all of
  // them once the environment is deleted) may still be in KV, so the backlog is queued from now.
  // Versions whose snapshot was never written are queued too; deleting a missing key is harmless.
  `INSERT INTO snapshots (version, superseded_at)
     WITH RECURSIVE v(n) AS (
       SELECT 1 WHERE EXISTS (SELECT 1 FROM meta WHERE id = 1 AND version >= 1)
       UNION ALL SELECT n + 1 FROM v WHERE n < (SELECT version FROM meta WHERE id = 1))
     SELECT n, CASE WHEN m.deleted = 1 OR n < m.published_version
                    THEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) END
       FROM v, meta m WHERE m.id = 1`,
];

const INSIGHTS_TABLES = [
  // IF NOT EXISTS: a store taken back to an older schema version (tests do) re-runs this step.
  // Insights (usage-repo.ts): evaluation counts from the edge's queue summaries, bucketed by hour
  // and, past 30 days, by day; first/last evaluation per flag; per-minute edge counters; ids of
  // applied messages (idempotent redelivery). Times are ms since epoch.
  `CREATE TABLE IF NOT EXISTS usage_hourly (flag TEXT NOT NULL, hour INTEGER NOT NULL, variant TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
     PRIMARY KEY (flag, hour, variant, reason)) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS usage_hourly_hour ON usage_hourly (hour)`,
  `CREATE TABLE IF NOT EXISTS usage_daily (flag TEXT NOT NULL, day INTEGER NOT NULL, variant TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
     PRIMARY KEY (flag, day, variant, reason)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS usage_flags (flag TEXT PRIMARY KEY, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS edge_minutes (
     minute INTEGER PRIMARY KEY,
     requests INTEGER NOT NULL DEFAULT 0, s2xx INTEGER NOT NULL DEFAULT 0, s3xx INTEGER NOT NULL DEFAULT 0,
     s4xx INTEGER NOT NULL DEFAULT 0, s5xx INTEGER NOT NULL DEFAULT 0, rate_limited INTEGER NOT NULL DEFAULT 0,
     stale INTEGER NOT NULL DEFAULT 0, cache_memory INTEGER NOT NULL DEFAULT 0, cache_cache INTEGER NOT NULL DEFAULT 0,
     cache_miss INTEGER NOT NULL DEFAULT 0, lost_evaluations INTEGER NOT NULL DEFAULT 0, lost_requests INTEGER NOT NULL DEFAULT 0,
     dead_letters INTEGER NOT NULL DEFAULT 0, dead_evaluations INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS usage_seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS usage_seen_at ON usage_seen (at)`,
  // Per-environment lifecycle settings (expected lifetimes per kind, status window), one JSON row.
  `CREATE TABLE IF NOT EXISTS lifecycle_settings (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)`,
];

const SCALE_TABLES = [
  // Applied usage message ids, one row per minute of their window start (insights/usage-ledger.ts).
  `CREATE TABLE IF NOT EXISTS usage_ledger (minute INTEGER PRIMARY KEY, ids TEXT NOT NULL, updated INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS usage_ledger_updated ON usage_ledger (updated)`,
  // Big segments' keys (environment/big-segments-repo.ts): one row per key and membership span,
  // added/removed are environment versions (removed NULL: a member now), so the set at any
  // version can be rebuilt (rollback). h: the key's 32-bit shard hash (core/wire/big-segments.ts),
  // indexed so one shard's keys are one range read.
  `CREATE TABLE IF NOT EXISTS big_segment_keys (segment TEXT NOT NULL, key TEXT NOT NULL, h INTEGER NOT NULL, added INTEGER NOT NULL, removed INTEGER)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS big_segment_keys_current ON big_segment_keys (segment, key) WHERE removed IS NULL`,
  `CREATE INDEX IF NOT EXISTS big_segment_keys_shard ON big_segment_keys (segment, h) WHERE removed IS NULL`,
];

const REGISTRY_V1 = [
  `CREATE TABLE environments (name TEXT PRIMARY KEY, created TEXT NOT NULL)`,
  `CREATE TABLE admin_tokens (
     id TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('admin', 'read')), environments TEXT,
     hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created TEXT NOT NULL, created_by TEXT NOT NULL,
     revoked TEXT, revoked_by TEXT)`,
];

const REGISTRY_V2 = [
  // Principals (src/core/principal.ts): owner is the person a token was minted for (NULL: on its
  // minter's behalf), principal who it acts for. Tokens minted before this step get their
  // minter's principal, followed up the minting chain to its root (the bootstrap token): the
  // conservative reading, since nobody named another person for them.
  `ALTER TABLE admin_tokens ADD COLUMN owner TEXT`,
  `ALTER TABLE admin_tokens ADD COLUMN principal TEXT`,
  `WITH RECURSIVE chain (id, principal) AS (
     SELECT id, created_by FROM admin_tokens WHERE created_by NOT IN (SELECT id FROM admin_tokens)
     UNION ALL SELECT t.id, chain.principal FROM admin_tokens t JOIN chain ON t.created_by = chain.id)
   UPDATE admin_tokens SET principal = (SELECT chain.principal FROM chain WHERE chain.id = admin_tokens.id)`,
];

const CHUNK_TABLES = [
  // Chunks of partitioned snapshots in KV (publishing/chunk-ledger.ts): stored once the put has
  // landed; retired: the first written version whose root does not name it (NULL: still named).
  `CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, stored INTEGER NOT NULL DEFAULT 0, retired INTEGER)`,
  `CREATE INDEX IF NOT EXISTS chunks_retired ON chunks (retired) WHERE retired IS NOT NULL`,
];

function migrate(sql: Sql, target: number, steps: Record<number, string[]>): void {
  run(
    sql,
    `CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
  );
  const current = first<{ version: number }>(sql, `SELECT version FROM schema_version WHERE id = 1`)?.version ?? 0;
  if (current === target) return;
  if (current > target) throw new Error(`storage schema ${current} is newer than this code (${target})`);
  for (let v = current + 1; v <= target; v++) for (const statement of steps[v] ?? []) run(sql, statement);
  run(
    sql,
    `INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
    target,
  );
}

/** Brings an EnvironmentStore's tables to STORE_SCHEMA_VERSION. Call inside a transaction. */
export function migrateStore(sql: Sql): void {
  // Steps 3–9 were written side by side (releases, insights, webhooks, alerts, scale, chunks, held key batches); each creates only
  // its own tables (IF NOT EXISTS), so their order is free.
  const releases = [...SCHEDULE_TABLES, ...PLAN_TABLES, ...POLICY_TABLES, ...CHANGE_REQUEST_TABLES, ...EVENT_TABLES];
  migrate(sql, STORE_SCHEMA_VERSION, {
    1: STORE_V1,
    2: STORE_V2,
    3: releases,
    4: INSIGHTS_TABLES,
    5: WEBHOOK_TABLES,
    6: ALERT_TABLES,
    7: SCALE_TABLES,
    8: CHUNK_TABLES,
    9: HELD_KEY_TABLES,
  });
}

/** Brings the Registry's tables to REGISTRY_SCHEMA_VERSION. Call inside a transaction. */
export function migrateRegistry(sql: Sql): void {
  migrate(sql, REGISTRY_SCHEMA_VERSION, { 1: REGISTRY_V1, 2: REGISTRY_V2 });
}
