/**
 * The per-environment usage aggregator: queue summaries are merged in memory (usage-merge.ts) and
 * written once per flush interval (a minute deployed), in one transaction. The consumer's call
 * answers only after the flush that made its messages durable, so the queue keeps every message
 * until it is counted: an object that restarts before a flush fails those calls, the consumer
 * retries, and the ledger (usage-ledger.ts) makes sure that nothing already written counts twice.
 * Counts stay exact while the rows written per minute stop depending on isolates and traffic.
 * @module
 */
import type { RecordOutcome } from "../../core/wire/insights-rpc";
import type { UsageMessage } from "../../core/wire/queue-messages";
import { emptyMerge, mergeMessage, MINUTE_MS, type MergedUsage } from "./usage-merge";

export const DEFAULT_USAGE_FLUSH_MS = 60_000;
/** Flushed early past this many distinct rows or ids, so memory stays bounded whatever the traffic. */
export const MAX_BUFFERED = 100_000;

/** The flush interval from the bindings (USAGE_FLUSH_SECONDS), default a minute. */
export function usageFlushMs(env: { USAGE_FLUSH_SECONDS?: string }): number {
  const seconds = Number(env.USAGE_FLUSH_SECONDS);
  return env.USAGE_FLUSH_SECONDS !== undefined && Number.isFinite(seconds) && seconds >= 0
    ? Math.round(seconds * 1000)
    : DEFAULT_USAGE_FLUSH_MS;
}

export interface UsageBufferHost {
  /** Whether this message was applied by an earlier flush. */
  applied(minute: number, id: string): boolean;
  /** Writes a merge in one transaction; throws (writing nothing) on failure. */
  write(merged: MergedUsage): void;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class UsageBuffer {
  private merged = emptyMerge();
  private readonly pending = new Set<string>();
  private waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `flushMs`: public for tests, which lengthen it to hold many deliveries in one flush. */
  constructor(
    private readonly host: UsageBufferHost,
    public flushMs: number,
  ) {}

  /** Merges `messages` and answers once they are written (or were before: duplicates). */
  async add(messages: readonly UsageMessage[]): Promise<RecordOutcome> {
    const outcome: RecordOutcome = { applied: 0, duplicates: 0, ignored: 0 };
    let waits = false;
    for (const m of messages) {
      const minute = Math.floor(m.at / MINUTE_MS) * MINUTE_MS;
      if (this.pending.has(m.id)) {
        // Merged, not yet written: acked only once that write is done.
        outcome.duplicates++;
        waits = true;
      } else if (this.host.applied(minute, m.id)) {
        outcome.duplicates++;
      } else {
        mergeMessage(this.merged, m);
        this.pending.add(m.id);
        outcome.applied++;
        waits = true;
      }
    }
    if (waits) await this.written();
    return outcome;
  }

  /** Writes what is merged now; every waiting call answers (or fails) with it. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const { merged, waiters } = this;
    this.merged = emptyMerge();
    this.pending.clear();
    this.waiters = [];
    if (waiters.length === 0 && merged.ids.size === 0) return;
    try {
      this.host.write(merged);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  private written(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.size >= MAX_BUFFERED || this.merged.hourly.size >= MAX_BUFFERED) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
    return done;
  }
}
