/**
 * Evaluation usage and edge request counters of one environment, as the queue consumer delivers
 * them (src/core/wire/queue-messages.ts). Tables in schema.ts (step 4).
 *
 * - usage_hourly: one row per (flag, hour, variant, reason) for {@link HOURLY_RETENTION_MS}; then
 *   rolled up into usage_daily (per day), kept {@link DAILY_RETENTION_MS}. Rows are bounded by
 *   flags × variants × reasons × buckets.
 * - usage_flags: first and last evaluation per flag (to within the edge's summary window).
 * - edge_minutes: per-minute request, status, 429, stale, cache-level, lost and dead-letter
 *   counts, kept {@link MINUTE_RETENTION_MS}.
 * - usage_ledger (usage-ledger.ts): ids of applied usage messages, one row per minute, so a
 *   redelivered message is counted once. usage_seen, one row per id, kept
 *   {@link SEEN_RETENTION_MS} and at most {@link SEEN_MAX_ROWS} rows, now holds dead letters
 *   only (and the usage ids applied before the ledger, still checked until they expire).
 * Usage is written merged (usage-merge.ts, usage-buffer.ts), never one message at a time.
 * Times are ms since epoch (bucket starts).
 * @module
 */
import { all, first, run, type Sql } from "../sql";
import { HOUR_MS, MINUTE_MS, type MergedUsage } from "./usage-merge";
import { LEDGER_RETENTION_MS } from "./usage-ledger";
import type { FlagUsage, MinuteBucket, UsageBucket } from "../../core/wire/insights-rpc";

export { HOUR_MS, MINUTE_MS };
export const DAY_MS = 86_400_000;
export const HOURLY_RETENTION_MS = 30 * DAY_MS;
export const DAILY_RETENTION_MS = 400 * DAY_MS;
export const MINUTE_RETENTION_MS = 2 * DAY_MS;
export const SEEN_RETENTION_MS = 15 * DAY_MS;
export const SEEN_MAX_ROWS = 200_000;

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

/** Whether this message id was applied before. */
export function seen(sql: Sql, id: string): boolean {
  return first(sql, `SELECT 1 AS x FROM usage_seen WHERE id = ?`, id) !== undefined;
}

/**
 * When the last usage summary was applied (the store's clock), undefined if none is remembered.
 * Dead-letter counts (`dlq:` ids) are not data about traffic. Reads the newest rows of the
 * `usage_seen_at` index only.
 */
export function lastUsageAt(sql: Sql): number | undefined {
  const ledger = first<{ at: number | null }>(sql, `SELECT max(updated) AS at FROM usage_ledger`)?.at ?? undefined;
  const legacy = first<{ at: number }>(
    sql,
    `SELECT at FROM usage_seen WHERE id NOT LIKE 'dlq:%' ORDER BY at DESC LIMIT 1`,
  )?.at;
  return ledger === undefined ? legacy : legacy === undefined ? ledger : Math.max(ledger, legacy);
}

/**
 * Writes one merge (usage-merge.ts): one upsert row per (flag, hour, variant, reason), per flag
 * and per minute, however many messages it holds. Call inside a transaction; the ledger records
 * its ids in the same one.
 */
export function writeMerged(sql: Sql, merged: MergedUsage): void {
  for (const rows of arrayChunks([...merged.hourly.values()])) {
    run(
      sql,
      `INSERT INTO usage_hourly (flag, hour, variant, reason, count)
                SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?) WHERE true
                ON CONFLICT (flag, hour, variant, reason) DO UPDATE SET count = count + excluded.count`,
      JSON.stringify(rows),
    );
  }
  for (const rows of arrayChunks([...merged.flags])) {
    run(
      sql,
      `INSERT INTO usage_flags (flag, first_at, last_at)
                SELECT value ->> 0, value ->> '$[1][0]', value ->> '$[1][1]' FROM json_each(?) WHERE true
                ON CONFLICT (flag) DO UPDATE SET first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)`,
      JSON.stringify(rows),
    );
  }
  for (const [minute, counts] of merged.minutes) addMinute(sql, minute, counts);
}

/** Rows per statement: each bound JSON array stays far below the 2 MB value limit. */
function arrayChunks<T>(rows: T[], size = 2_000): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

type MinuteColumn =
  | "requests"
  | "s2xx"
  | "s3xx"
  | "s4xx"
  | "s5xx"
  | "rate_limited"
  | "stale"
  | "cache_memory"
  | "cache_cache"
  | "cache_miss"
  | "lost_evaluations"
  | "lost_requests"
  | "dead_letters"
  | "dead_evaluations";
const MINUTE_COLUMNS: MinuteColumn[] = [
  "requests",
  "s2xx",
  "s3xx",
  "s4xx",
  "s5xx",
  "rate_limited",
  "stale",
  "cache_memory",
  "cache_cache",
  "cache_miss",
  "lost_evaluations",
  "lost_requests",
  "dead_letters",
  "dead_evaluations",
];

/** Adds to one minute's counters (columns from a fixed list, never from input). */
export function addMinute(sql: Sql, minute: number, add: Partial<Record<MinuteColumn, number>>): void {
  const cols = MINUTE_COLUMNS.filter((c) => (add[c] ?? 0) !== 0);
  if (cols.length === 0) return;
  run(
    sql,
    `INSERT INTO edge_minutes (minute, ${cols.join(", ")}) VALUES (?, ${cols.map(() => "?").join(", ")})
              ON CONFLICT (minute) DO UPDATE SET ${cols.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`,
    minute,
    ...cols.map((c) => add[c]),
  );
}

/** Retention: hourly → daily past 30 days, and the old rows of every table deleted. */
export function maintainUsage(sql: Sql, now: number): void {
  const hourlyBefore = floorTo(now - HOURLY_RETENTION_MS, DAY_MS);
  run(
    sql,
    `INSERT INTO usage_daily (flag, day, variant, reason, count)
              SELECT flag, (hour / ${DAY_MS}) * ${DAY_MS}, variant, reason, sum(count) FROM usage_hourly WHERE hour < ?
               GROUP BY 1, 2, 3, 4
              ON CONFLICT (flag, day, variant, reason) DO UPDATE SET count = count + excluded.count`,
    hourlyBefore,
  );
  run(sql, `DELETE FROM usage_hourly WHERE hour < ?`, hourlyBefore);
  run(sql, `DELETE FROM usage_daily WHERE day < ?`, now - DAILY_RETENTION_MS);
  run(sql, `DELETE FROM edge_minutes WHERE minute < ?`, now - MINUTE_RETENTION_MS);
  run(sql, `DELETE FROM usage_seen WHERE at < ?`, now - SEEN_RETENTION_MS);
  run(sql, `DELETE FROM usage_ledger WHERE updated < ?`, now - LEDGER_RETENTION_MS);
  run(
    sql,
    `DELETE FROM usage_seen WHERE at <= (SELECT at FROM usage_seen ORDER BY at DESC LIMIT 1 OFFSET ?)`,
    SEEN_MAX_ROWS,
  );
}

/** The last `hours` hourly buckets up to the current hour (every hour present, zeros included). */
export function flagUsage(sql: Sql, flag: string, hours: number, now: number): FlagUsage {
  const last = floorTo(now, HOUR_MS);
  const from = last - (hours - 1) * HOUR_MS;
  const rows = all<{ hour: number; variant: string; count: number }>(
    sql,
    `SELECT hour, variant, sum(count) AS count FROM usage_hourly WHERE flag = ? AND hour >= ? GROUP BY hour, variant`,
    flag,
    from,
  );
  const buckets = new Map<number, UsageBucket>();
  for (let h = from; h <= last; h += HOUR_MS)
    buckets.set(h, { start: new Date(h).toISOString(), total: 0, variants: {} });
  const variants: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    const b = buckets.get(r.hour);
    if (!b) continue;
    b.total += r.count;
    b.variants[r.variant] = (b.variants[r.variant] ?? 0) + r.count;
    variants[r.variant] = (variants[r.variant] ?? 0) + r.count;
    total += r.count;
  }
  return { flag, total, variants, lastEvaluatedAt: lastEvaluated(sql, flag), buckets: [...buckets.values()] };
}

function lastEvaluated(sql: Sql, flag: string): string | null {
  const at = first<{ last_at: number }>(sql, `SELECT last_at FROM usage_flags WHERE flag = ?`, flag)?.last_at;
  return at === undefined ? null : new Date(at).toISOString();
}

type MinuteRow = Record<MinuteColumn | "minute", number>;

/** The last `minutes` minute buckets up to the current minute (zeros included). */
export function edgeMinutes(sql: Sql, minutes: number, now: number): MinuteBucket[] {
  const last = floorTo(now, MINUTE_MS);
  const from = last - (minutes - 1) * MINUTE_MS;
  const rows = new Map(
    all<MinuteRow>(sql, `SELECT * FROM edge_minutes WHERE minute >= ?`, from).map((r) => [r.minute, r]),
  );
  const out: MinuteBucket[] = [];
  for (let m = from; m <= last; m += MINUTE_MS) {
    const r = rows.get(m);
    const v = (c: MinuteColumn) => r?.[c] ?? 0;
    out.push({
      start: new Date(m).toISOString(),
      requests: v("requests"),
      status: { "2xx": v("s2xx"), "3xx": v("s3xx"), "4xx": v("s4xx"), "5xx": v("s5xx") },
      rateLimited: v("rate_limited"),
      stale: v("stale"),
      cache: { memory: v("cache_memory"), cache: v("cache_cache"), miss: v("cache_miss") },
      lost: { evaluations: v("lost_evaluations"), requests: v("lost_requests") },
      deadLettered: { messages: v("dead_letters"), evaluations: v("dead_evaluations") },
    });
  }
  return out;
}

/** What lifecycle status needs from usage, per flag evaluated since `since`. */
export interface FlagUse {
  lastEvaluatedAt: number | null;
  /** Distinct variants served since `since`. */
  variantsSince: number;
}

/** Every flag's use since `since`, or (with `key`) that one flag's: a lookup by key, not a scan. */
export function flagUse(sql: Sql, since: number, key?: string): Map<string, FlagUse> {
  const [where, only] = key === undefined ? ["", []] : ["flag = ? AND", [key]];
  const out = new Map<string, FlagUse>();
  for (const r of all<{ flag: string; last_at: number }>(
    sql,
    `SELECT flag, last_at FROM usage_flags WHERE ${where} true`,
    ...only,
  )) {
    out.set(r.flag, { lastEvaluatedAt: r.last_at, variantsSince: 0 });
  }
  for (const r of all<{ flag: string; n: number }>(
    sql,
    `SELECT flag, count(DISTINCT variant) AS n FROM usage_hourly WHERE ${where} hour >= ? GROUP BY flag`,
    ...only,
    floorTo(since, HOUR_MS),
  )) {
    const use = out.get(r.flag);
    if (use) use.variantsSince = r.n;
  }
  return out;
}

export function clearUsage(sql: Sql): void {
  for (const table of ["usage_hourly", "usage_daily", "usage_flags", "edge_minutes"]) run(sql, `DELETE FROM ${table}`);
}
