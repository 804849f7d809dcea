/**
 * The insights half of an environment's Durable Object: applying queue summaries idempotently,
 * retention, and the usage, metrics and lifecycle reads. EnvironmentStore delegates its
 * InsightsStoreApi methods here; SQL lives in usage-repo.ts and lifecycle-repo.ts.
 * @module
 */
import {
  applyLifecyclePatch, DEFAULT_FLAG_KIND, flagStatus, LifecyclePatch, lifecycleSettings, type LifecycleSettings,
} from "../core/lifecycle";
import type { Flag } from "../core/model";
import type { UsageMessage } from "../queue/messages";
import type { Stored, StoreResult } from "./api";
import { auditTime } from "./audit-repo";
import type { DeadLetter, EdgeMetrics, FlagLifecycle, RecordOutcome } from "./insights-api";
import { flagTimes, readLifecycleSettings, writeLifecycleSettings } from "./lifecycle-repo";
import type { Meta } from "./meta-repo";
import { done, invalid, noEnvironment } from "./refusals";
import type { Sql } from "./sql";
import { addMinute, applyUsage, edgeMinutes, flagUsage, flagUse, maintainUsage, MINUTE_MS, seen, type FlagUsage } from "./usage-repo";

/** Retention runs at most this often per object (and on its first write after waking). */
const MAINTENANCE_INTERVAL_MS = 10 * 60_000;
export const MAX_USAGE_HOURS = 720;
export const MAX_METRICS_MINUTES = 1440;

export interface InsightsHost {
  sql: Sql;
  transaction(fn: () => void): void;
  /** The meta row of a created, not deleted environment; undefined otherwise. */
  live(): Meta | undefined;
  flags(): Stored<Flag>[];
}

const unknownEnvironment = noEnvironment;

export class StoreInsights {
  private maintainedAt = 0;
  /** The clock of every bucket and window; tests move it (fields are not RPC-callable). */
  now: () => number = () => Date.now();

  constructor(private readonly host: InsightsHost) {}

  recordUsage(messages: UsageMessage[]): RecordOutcome {
    const outcome: RecordOutcome = { applied: 0, duplicates: 0, ignored: 0 };
    const list = Array.isArray(messages) ? messages : [];
    if (!this.host.live()) return { ...outcome, ignored: list.length };
    const now = this.now();
    this.host.transaction(() => {
      for (const m of list) {
        if (seen(this.host.sql, m.id)) outcome.duplicates++;
        else {
          applyUsage(this.host.sql, m, now);
          outcome.applied++;
        }
      }
      this.maintain(now);
    });
    return outcome;
  }

  recordDeadLetters(letters: DeadLetter[]): RecordOutcome {
    const outcome: RecordOutcome = { applied: 0, duplicates: 0, ignored: 0 };
    const list = Array.isArray(letters) ? letters : [];
    if (!this.host.live()) return { ...outcome, ignored: list.length };
    const now = this.now();
    this.host.transaction(() => {
      for (const d of list) {
        // Its own id space: the same message may have been applied in part before it died.
        const id = `dlq:${d.id}`;
        if (seen(this.host.sql, id)) {
          outcome.duplicates++;
          continue;
        }
        this.host.sql.exec(`INSERT INTO usage_seen (id, at) VALUES (?, ?)`, id, now).toArray();
        addMinute(this.host.sql, Math.floor(d.at / MINUTE_MS) * MINUTE_MS, { dead_letters: 1, dead_evaluations: d.evaluations });
        outcome.applied++;
      }
    });
    return outcome;
  }

  /** Retention, at most every MAINTENANCE_INTERVAL_MS; `force` for tests. */
  maintain(now: number, force = false): void {
    if (!force && now - this.maintainedAt < MAINTENANCE_INTERVAL_MS) return;
    this.maintainedAt = now;
    maintainUsage(this.host.sql, now);
  }

  flagUsage(flag: string, hours: number): StoreResult<FlagUsage> {
    if (!this.host.live()) return unknownEnvironment;
    const h = Math.min(MAX_USAGE_HOURS, Math.max(1, Math.floor(Number(hours) || 24)));
    return done(flagUsage(this.host.sql, String(flag), h, this.now()));
  }

  edgeMetrics(minutes: number): StoreResult<EdgeMetrics> {
    const meta = this.host.live();
    if (!meta) return unknownEnvironment;
    const m = Math.min(MAX_METRICS_MINUTES, Math.max(1, Math.floor(Number(minutes) || 60)));
    const now = this.now();
    // Lag: since the first version KV does not have yet was committed.
    const behind = meta.publishedVersion < meta.version ? auditTime(this.host.sql, meta.publishedVersion + 1) : undefined;
    const lagSeconds = behind ? Math.max(0, (now - Date.parse(behind)) / 1000) : 0;
    return done({
      buckets: edgeMinutes(this.host.sql, m, now),
      publish: { version: meta.version, publishedVersion: meta.publishedVersion, lagSeconds: Math.round(lagSeconds * 10) / 10 },
    });
  }

  flagLifecycles(): StoreResult<Record<string, FlagLifecycle>> {
    if (!this.host.live()) return unknownEnvironment;
    const settings = this.settings();
    const now = this.now();
    const since = now - settings.statusWindowDays * 86_400_000;
    const use = flagUse(this.host.sql, since);
    const times = flagTimes(this.host.sql);
    const out: Record<string, FlagLifecycle> = {};
    for (const flag of this.host.flags()) {
      const kind = flag.kind ?? DEFAULT_FLAG_KIND;
      const u = use.get(flag.key);
      const t = times.get(flag.key) ?? { createdAt: now, changedAt: now };
      const { status, stale } = flagStatus(
        { kind, createdAt: t.createdAt, changedAt: t.changedAt, lastEvaluatedAt: u?.lastEvaluatedAt ?? null, variantsInWindow: u?.variantsSince ?? 0 },
        now,
        settings,
      );
      out[flag.key] = { kind, status, stale, lastEvaluatedAt: u?.lastEvaluatedAt ? new Date(u.lastEvaluatedAt).toISOString() : null };
    }
    return done(out);
  }

  lifecycleSettings(): StoreResult<LifecycleSettings> {
    if (!this.host.live()) return unknownEnvironment;
    return done(this.settings());
  }

  setLifecycleSettings(patch: unknown): StoreResult<LifecycleSettings> {
    if (!this.host.live()) return unknownEnvironment;
    const parsed = LifecyclePatch.safeParse(patch);
    if (!parsed.success) return invalid(parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })));
    const next = applyLifecyclePatch(this.settings(), parsed.data);
    writeLifecycleSettings(this.host.sql, next);
    return done(next);
  }

  private settings(): LifecycleSettings {
    return lifecycleSettings(readLifecycleSettings(this.host.sql));
  }
}
