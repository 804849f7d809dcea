/**
 * The insights half of an environment's Durable Object: applying queue summaries idempotently,
 * retention, and the usage, metrics and lifecycle reads. EnvironmentStore delegates its
 * InsightsStoreApi methods here; SQL lives in usage-repo.ts and lifecycle-repo.ts.
 * @module
 */
import type { FlagUsage, MinuteBucket } from "../../core/wire/insights-rpc";
import {
  applyLifecyclePatch,
  DEFAULT_FLAG_KIND,
  flagStatus,
  LifecyclePatch,
  lifecycleSettings,
  staleAt,
  type FlagFacts,
  type LifecycleSettings,
} from "../../core/lifecycle";
import { zodIssues } from "../../core/issues";
import type { Flag } from "../../core/model";
import type { UsageMessage } from "../../core/wire/queue-messages";
import type { Stored, StoreResult } from "../../core/wire/store-rpc";
import { auditTime } from "../environment/audit-repo";
import type { DeadLetter, EdgeMetrics, FlagLifecycle, RecordOutcome } from "../../core/wire/insights-rpc";
import { flagTimes, readLifecycleSettings, writeLifecycleSettings } from "./lifecycle-repo";
import type { Meta } from "../environment/meta-repo";
import { success, invalid, noEnvironment, notFound } from "../results";
import type { Sql } from "../sql";
import {
  addMinute,
  edgeMinutes,
  flagUsage,
  flagUse,
  lastUsageAt,
  maintainUsage,
  MINUTE_MS,
  seen,
  writeMerged,
} from "./usage-repo";
import { UsageBuffer } from "./usage-buffer";
import { UsageLedger } from "./usage-ledger";

/** The read-only lifecycle fields of one flag, judged at `now`. */
function lifecycleOf(facts: FlagFacts, now: number, settings: LifecycleSettings): FlagLifecycle {
  const { status, stale } = flagStatus(facts, now, settings);
  return {
    kind: facts.kind,
    status,
    stale,
    lastEvaluatedAt: facts.lastEvaluatedAt ? new Date(facts.lastEvaluatedAt).toISOString() : null,
  };
}

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
  flag(key: string): Stored<Flag> | undefined;
  /** How long usage is merged in memory before it is written (usage-buffer.ts). */
  usageFlushMs: number;
}

const unknownEnvironment = noEnvironment;

export class StoreInsights {
  private maintainedAt = 0;
  /** The clock of every bucket and window; tests move it (fields are not RPC-callable). */
  now: () => number = () => Date.now();

  private readonly ledger: UsageLedger;
  /** Public for tests: `flush()` writes what is merged at once. */
  readonly usage: UsageBuffer;

  constructor(private readonly host: InsightsHost) {
    this.ledger = new UsageLedger(host.sql);
    this.usage = new UsageBuffer(
      {
        // usage_seen: ids applied before the ledger existed, until they expire.
        applied: (minute, id) => this.ledger.has(minute, id) || seen(host.sql, id),
        write: (merged) => {
          const now = this.now();
          try {
            host.transaction(() => {
              writeMerged(host.sql, merged);
              this.ledger.add(merged.ids, now);
              this.maintain(now);
            });
          } catch (err) {
            this.ledger.forget();
            throw err;
          }
        },
      },
      host.usageFlushMs,
    );
  }

  /** Merged with every other summary of the flush interval; answers once they are written (usage-buffer.ts). */
  async recordUsage(messages: UsageMessage[]): Promise<RecordOutcome> {
    const list = Array.isArray(messages) ? messages : [];
    if (!this.host.live()) return { applied: 0, duplicates: 0, ignored: list.length };
    return this.usage.add(list);
  }

  recordDeadLetters(letters: DeadLetter[]): RecordOutcome {
    return this.recordOnce(letters, (d, now) => {
      // Its own id space: the same message may have been applied in part before it died.
      const id = `dlq:${d.id}`;
      if (seen(this.host.sql, id)) return false;
      this.host.sql.exec(`INSERT INTO usage_seen (id, at) VALUES (?, ?)`, id, now).toArray();
      addMinute(this.host.sql, Math.floor(d.at / MINUTE_MS) * MINUTE_MS, {
        dead_letters: 1,
        dead_evaluations: d.evaluations,
      });
      return true;
    });
  }

  /**
   * Each item in one transaction: `apply` answers false for one already seen (a redelivery). While
   * the environment does not exist every item is ignored.
   */
  private recordOnce<T>(items: T[], apply: (item: T, now: number) => boolean): RecordOutcome {
    const outcome: RecordOutcome = { applied: 0, duplicates: 0, ignored: 0 };
    const list = Array.isArray(items) ? items : [];
    if (!this.host.live()) return { ...outcome, ignored: list.length };
    const now = this.now();
    this.host.transaction(() => {
      for (const item of list) {
        if (apply(item, now)) outcome.applied++;
        else outcome.duplicates++;
      }
    });
    return outcome;
  }

  /** Retention, at most every MAINTENANCE_INTERVAL_MS; `force` for tests. */
  maintain(now: number, force = false): void {
    if (!force && now - this.maintainedAt < MAINTENANCE_INTERVAL_MS) return;
    this.maintainedAt = now;
    maintainUsage(this.host.sql, now);
    this.ledger.forget();
  }

  flagUsage(flag: string, hours: number): StoreResult<FlagUsage> {
    if (!this.host.live()) return unknownEnvironment;
    const h = Math.min(MAX_USAGE_HOURS, Math.max(1, Math.floor(Number(hours) || 24)));
    return success(flagUsage(this.host.sql, String(flag), h, this.now()));
  }

  edgeMetrics(minutes: number): StoreResult<EdgeMetrics> {
    const meta = this.host.live();
    if (!meta) return unknownEnvironment;
    const m = Math.min(MAX_METRICS_MINUTES, Math.max(1, Math.floor(Number(minutes) || 60)));
    const now = this.now();
    const lagSeconds = this.publishLagSeconds(meta, now);
    return success({
      buckets: edgeMinutes(this.host.sql, m, now),
      publish: {
        version: meta.version,
        publishedVersion: meta.publishedVersion,
        lagSeconds: Math.round(lagSeconds * 10) / 10,
      },
    });
  }

  /** Publish lag: seconds since the first version KV does not have yet was committed (0 when KV is current). */
  publishLagSeconds(meta: Meta, now = this.now()): number {
    const behind =
      meta.publishedVersion < meta.version ? auditTime(this.host.sql, meta.publishedVersion + 1) : undefined;
    return behind ? Math.max(0, (now - Date.parse(behind)) / 1000) : 0;
  }

  /** The last `minutes` per-minute edge buckets up to now (the alert window). */
  minutes(minutes: number, now = this.now()): MinuteBucket[] {
    return edgeMinutes(this.host.sql, minutes, now);
  }

  /** When the last usage summary arrived (the alerts' "no data" judgement), if one did. */
  lastDataAt(): number | undefined {
    return lastUsageAt(this.host.sql);
  }

  flagLifecycles(): StoreResult<Record<string, FlagLifecycle>> {
    if (!this.host.live()) return unknownEnvironment;
    const { settings, now, flags } = this.flagFacts();
    return success(Object.fromEntries(flags.map(({ key, facts }) => [key, lifecycleOf(facts, now, settings)])));
  }

  /** One flag's lifecycle fields, from its own rows only (GET of one flag); not_found when it does not exist. */
  flagLifecycle(key: string): StoreResult<FlagLifecycle> {
    if (!this.host.live()) return unknownEnvironment;
    const { settings, now, flags } = this.flagFacts(String(key));
    const [flag] = flags;
    return flag ? success(lifecycleOf(flag.facts, now, settings)) : notFound(`no flag "${key}"`);
  }

  /** What the flag-stale alerts need: the flags stale now, and when the next one could turn stale if nothing happens. */
  staleOutlook(): { stale: string[]; nextAt: number | undefined } {
    const { settings, now, flags } = this.flagFacts();
    const stale: string[] = [];
    let nextAt: number | undefined;
    for (const { key, facts } of flags) {
      if (flagStatus(facts, now, settings).stale) stale.push(key);
      const at = staleAt(facts, now, settings);
      if (at !== undefined && (nextAt === undefined || at < nextAt)) nextAt = at;
    }
    return { stale, nextAt };
  }

  /**
   * The status facts of every current flag (or, with `key`, of that flag alone: its rows only,
   * none of the others'), with the settings and clock they are judged by.
   */
  private flagFacts(key?: string): {
    settings: LifecycleSettings;
    now: number;
    flags: { key: string; facts: FlagFacts }[];
  } {
    const settings = this.settings();
    const now = this.now();
    const since = now - settings.statusWindowDays * 86_400_000;
    const use = flagUse(this.host.sql, since, key);
    const times = flagTimes(this.host.sql, key);
    const current = key === undefined ? this.host.flags() : [this.host.flag(key)].filter((f) => f !== undefined);
    const flags = current.map((flag) => {
      const u = use.get(flag.key);
      const t = times.get(flag.key) ?? { createdAt: now, changedAt: now };
      const facts: FlagFacts = {
        kind: flag.kind ?? DEFAULT_FLAG_KIND,
        createdAt: t.createdAt,
        changedAt: t.changedAt,
        lastEvaluatedAt: u?.lastEvaluatedAt ?? null,
        variantsInWindow: u?.variantsSince ?? 0,
      };
      return { key: flag.key, facts };
    });
    return { settings, now, flags };
  }

  lifecycleSettings(): StoreResult<LifecycleSettings> {
    if (!this.host.live()) return unknownEnvironment;
    return success(this.settings());
  }

  setLifecycleSettings(patch: unknown): StoreResult<LifecycleSettings> {
    if (!this.host.live()) return unknownEnvironment;
    const parsed = LifecyclePatch.safeParse(patch);
    if (!parsed.success) return invalid(zodIssues(parsed.error.issues));
    const next = applyLifecyclePatch(this.settings(), parsed.data);
    writeLifecycleSettings(this.host.sql, next);
    return success(next);
  }

  private settings(): LifecycleSettings {
    return lifecycleSettings(readLifecycleSettings(this.host.sql));
  }
}
