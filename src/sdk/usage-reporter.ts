/**
 * An in-process SDK's evaluation counts, reported in batches (core/wire/usage-batch.ts), never one
 * request per evaluation.
 *
 * Counting is one Map increment keyed by the result object: the engine answers preallocated,
 * frozen results, one per flag, variant and reason (core/flag-results.ts), so no key string is
 * built per evaluation. A window opens with its first count and ends after `intervalMs` or at the
 * next minute boundary, whichever is first (a batch never straddles a minute, like the edge's
 * summaries); then its counts become batches of at most ~60 KB of JSON, each with its own id.
 *
 * Sending is one batch at a time, oldest first. A batch that could not be delivered (network
 * error, timeout, 429, 5xx) is sent again later with the same id, so the store counts it once
 * even if an earlier attempt did get through; a batch the server refuses for good (4xx: a revoked
 * key, a malformed batch) is dropped. Memory is bounded: at most `maxKeys` distinct counters (a
 * new one past that counts as lost) and `maxPending` unsent batches (past that the oldest is
 * dropped); what is dropped is counted and reported in the next batch's `lost`.
 * @module
 */
import type { EvaluationResult } from "../core/evaluation-types";
import { USAGE_BATCH_MAX_BYTES, type UsageBatch } from "../core/wire/usage-batch";
import { backoffMs, type Backoff } from "./backoff";
import { unref } from "./timers";

/** What became of one attempt to send a batch. */
export type SendOutcome = "sent" | "retry" | "drop";

export interface UsageReporterOptions {
  send: (batch: UsageBatch) => Promise<SendOutcome>;
  /** Longest a count waits before it is sent (default 10 s). */
  intervalMs?: number;
  maxKeys?: number;
  maxPending?: number;
  /** Delays between re-sends of an undelivered batch. */
  retry?: Backoff;
  now?: () => number;
  /** Prefix of batch ids; random per reporter by default. */
  instanceId?: string;
  /**
   * A send not settled after this long died with the request that ran it (Workers ends a request's
   * I/O with it): the next flush sends the same batch again (same id, so it counts once). Default:
   * never (in Node a send ends by its own timeout).
   */
  abandonAfterMs?: number;
  random?: () => number;
}

export const DEFAULT_USAGE_INTERVAL_MS = 10_000;
export const DEFAULT_USAGE_MAX_KEYS = 10_000;
export const DEFAULT_USAGE_MAX_PENDING = 100;
const MINUTE_MS = 60_000;
/** Below the route's body limit, with room for the batch's other fields. */
const BATCH_BYTES = USAGE_BATCH_MAX_BYTES - 4_096;
const SEP = "\u0000";

type Timer = ReturnType<typeof setTimeout>;

export class UsageReporter {
  private readonly send: UsageReporterOptions["send"];
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly maxPending: number;
  private readonly retry: Backoff;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly instanceId: string;

  private counts = new Map<EvaluationResult, number>();
  private windowAt = 0;
  private windowTimer: Timer | undefined;
  private readonly pending: UsageBatch[] = [];
  private lost = 0;
  private seq = 0;
  /** When the running drain started (undefined: none runs). */
  private sendingSince: number | undefined;
  private readonly abandonAfterMs: number;
  private failures = 0;
  private retryTimer: Timer | undefined;
  private closed = false;

  constructor(o: UsageReporterOptions) {
    this.send = o.send;
    this.intervalMs = Math.max(1, o.intervalMs ?? DEFAULT_USAGE_INTERVAL_MS);
    this.maxKeys = o.maxKeys ?? DEFAULT_USAGE_MAX_KEYS;
    // Two at least: the batch being sent is never the one dropped.
    this.maxPending = Math.max(2, o.maxPending ?? DEFAULT_USAGE_MAX_PENDING);
    this.retry = o.retry ?? { minMs: 1_000, maxMs: 60_000 };
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.instanceId = o.instanceId ?? randomId();
    this.abandonAfterMs = o.abandonAfterMs ?? Infinity;
  }

  /** One evaluation that answered `result` (call only for results that served their value). */
  count(result: EvaluationResult): void {
    const n = this.counts.get(result);
    if (n !== undefined) {
      this.counts.set(result, n + 1);
      return;
    }
    if (this.closed) return;
    if (this.counts.size >= this.maxKeys) {
      this.lost++;
      return;
    }
    if (this.counts.size === 0) this.open();
    this.counts.set(result, 1);
  }

  /** For tests and operators: what is held right now. */
  stats(): { keys: number; pending: number; lost: number; pendingIds: string[] } {
    return {
      keys: this.counts.size,
      pending: this.pending.length,
      lost: this.lost,
      pendingIds: this.pending.map((b) => b.id),
    };
  }

  /** Seals the open window now and sends what is pending (best effort, up to `timeoutMs`). */
  async close(timeoutMs = 2_000): Promise<void> {
    this.seal();
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const deadline = this.now() + timeoutMs;
    while (this.pending.length > 0 && this.now() < deadline) {
      const before = this.pending.length;
      await Promise.race([this.drain(), new Promise((r) => unref(setTimeout(r, Math.max(0, deadline - this.now()))))]);
      if (this.pending.length >= before) break;
    }
  }

  /** Seals the open window into batches and sends (the window timer calls it; tests may). */
  flush(): Promise<void> {
    this.seal();
    return this.drain();
  }

  private open(): void {
    const at = this.now();
    this.windowAt = at;
    const end = Math.min(at + this.intervalMs, (Math.floor(at / MINUTE_MS) + 1) * MINUTE_MS);
    this.windowTimer = unref(setTimeout(() => void this.flush(), Math.max(0, end - at)));
  }

  private seal(): void {
    if (this.windowTimer !== undefined) clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    const counts = this.counts;
    if (counts.size === 0 && this.lost === 0) return;
    this.counts = new Map();
    // Results of several snapshot versions may stand for one row: rows are summed by their text.
    const rows = new Map<string, number>();
    for (const [r, n] of counts) {
      const k = r.key + SEP + (r.variant ?? "") + SEP + r.reason;
      rows.set(k, (rows.get(k) ?? 0) + n);
    }
    const at = counts.size > 0 ? this.windowAt : this.now();
    let batch = this.batch(at);
    let bytes = 0;
    for (const [k, n] of rows) {
      const [flag, variant, reason] = k.split(SEP) as [string, string, UsageBatch["evaluations"][number][2]];
      const size = JSON.stringify(flag).length + JSON.stringify(variant).length + reason.length + 24;
      if (bytes + size > BATCH_BYTES && batch.evaluations.length > 0) {
        this.enqueue(batch);
        batch = this.batch(at);
        bytes = 0;
      }
      batch.evaluations.push([flag, variant, reason, n]);
      bytes += size;
    }
    this.enqueue(batch);
  }

  private batch(at: number): UsageBatch {
    return { id: `${this.instanceId}-${++this.seq}`, at, evaluations: [] };
  }

  private enqueue(batch: UsageBatch): void {
    if (this.lost > 0) {
      batch.lost = (batch.lost ?? 0) + this.lost;
      this.lost = 0;
    }
    this.pending.push(batch);
    // The oldest go first (but never the one being sent: it may get through); what they counted
    // rides along in the newest batch's `lost`.
    while (this.pending.length > this.maxPending) {
      const [dropped] = this.pending.splice(this.sendingSince !== undefined ? 1 : 0, 1);
      batch.lost = (batch.lost ?? 0) + evaluationsIn(dropped!);
    }
  }

  /** Sends pending batches one at a time until none is left or one must wait for a retry. */
  private async drain(): Promise<void> {
    const since = this.now();
    if (this.sendingSince !== undefined && since - this.sendingSince < this.abandonAfterMs) return;
    this.sendingSince = since;
    // `mine`: no later drain has taken over from this one (it takes over only once this one is
    // presumed dead, but a slow one may still wake up: then it stops without touching the queue).
    const mine = () => this.sendingSince === since;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending[0]!;
        let outcome: SendOutcome;
        try {
          outcome = await this.send(batch);
        } catch {
          outcome = "retry";
        }
        if (!mine()) return;
        if (outcome === "retry") {
          if (!this.closed && this.retryTimer === undefined) {
            this.retryTimer = unref(
              setTimeout(
                () => {
                  this.retryTimer = undefined;
                  void this.drain();
                },
                backoffMs(this.failures++, this.retry, this.random),
              ),
            );
          }
          return;
        }
        this.failures = 0;
        this.pending.shift();
      }
    } finally {
      if (mine()) this.sendingSince = undefined;
    }
  }
}

function evaluationsIn(batch: UsageBatch): number {
  let n = batch.lost ?? 0;
  for (const row of batch.evaluations) n += row[3];
  return n;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  let s = "";
  for (const b of bytes) s += b.toString(36).padStart(2, "0");
  return s.slice(0, 18);
}
