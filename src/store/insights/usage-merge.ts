/**
 * Usage summaries merged before they reach SQLite: however many isolates sent them, one merge
 * holds one count per (flag, hour, variant, reason), one time range per flag, one counter set per
 * minute and the applied message ids per minute. Writing a merge therefore costs rows bounded by
 * flags × variants × reasons (plus a few per minute), never rows per message (docs/insights.md).
 * Pure: the bench and the store share it.
 * @module
 */
import type { UsageMessage } from "../../core/wire/queue-messages";

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

/** The per-minute edge counters (edge_minutes columns) one summary adds. */
export interface MinuteCounts {
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  rate_limited: number;
  stale: number;
  cache_memory: number;
  cache_cache: number;
  cache_miss: number;
  lost_evaluations: number;
  lost_requests: number;
}

export interface MergedUsage {
  /** `flag \0 hour \0 variant \0 reason` → [flag, hour, variant, reason, count]. */
  readonly hourly: Map<string, [string, number, string, string, number]>;
  /** Flag → [first window start, last window start]. */
  readonly flags: Map<string, [number, number]>;
  readonly minutes: Map<number, MinuteCounts>;
  /** Window-start minute → ids of the messages merged (the ledger's rows, usage-ledger.ts). */
  readonly ids: Map<number, string[]>;
}

export function emptyMerge(): MergedUsage {
  return { hourly: new Map(), flags: new Map(), minutes: new Map(), ids: new Map() };
}

/** One summary's minute counters, as edge_minutes adds them. */
export function minuteCounts(m: UsageMessage): MinuteCounts {
  const c: MinuteCounts = {
    requests: 0,
    s2xx: 0,
    s3xx: 0,
    s4xx: 0,
    s5xx: 0,
    rate_limited: m.rateLimited,
    stale: m.stale,
    cache_memory: m.cache.memory,
    cache_cache: m.cache.cache,
    cache_miss: m.cache.miss,
    lost_evaluations: m.lost.evaluations,
    lost_requests: m.lost.requests,
  };
  for (const [, cls, n] of m.requests) {
    c[`s${cls}` as "s2xx"] += n;
    c.requests += n;
  }
  return c;
}

/** Adds `m` into `into` (the caller has checked that `m` was not merged or applied before). */
export function mergeMessage(into: MergedUsage, m: UsageMessage): void {
  const hour = floorTo(m.at, HOUR_MS);
  for (const [flag, variant, reason, , count] of m.evaluations) {
    const key = `${flag}\u0000${hour}\u0000${variant}\u0000${reason}`;
    const row = into.hourly.get(key);
    if (row) row[4] += count;
    else into.hourly.set(key, [flag, hour, variant, reason, count]);
    const times = into.flags.get(flag);
    if (!times) into.flags.set(flag, [m.at, m.at]);
    else {
      if (m.at < times[0]) times[0] = m.at;
      if (m.at > times[1]) times[1] = m.at;
    }
  }
  const minute = floorTo(m.at, MINUTE_MS);
  const add = minuteCounts(m);
  const sum = into.minutes.get(minute);
  if (!sum) into.minutes.set(minute, add);
  else for (const k of Object.keys(add) as (keyof MinuteCounts)[]) sum[k] += add[k];
  const ids = into.ids.get(minute);
  if (ids) ids.push(m.id);
  else into.ids.set(minute, [m.id]);
}

/** The SQLite rows writing `merged` touches: one per hourly count, flag, minute and ledger minute. */
export function rowWrites(merged: MergedUsage): number {
  return merged.hourly.size + merged.flags.size + merged.minutes.size + merged.ids.size;
}

/** The rows applying each message alone touched before merging: evaluation rows (hourly and flags) plus its minute and its id. */
export function unmergedRowWrites(m: UsageMessage): number {
  return m.evaluations.length + new Set(m.evaluations.map((e) => e[0])).size + 2;
}
