/**
 * Per-isolate evaluation and request counts, sent as summaries, never one message per evaluation.
 *
 * Counting is a Map increment on the request path; everything else (building messages, sending)
 * happens in `flush`, which hooks.ts runs inside `ctx.waitUntil` after the answer has gone out.
 *
 * Windows. The first count after a flush opens a window of `windowMs` that also ends at the next
 * minute boundary, so one summary never straddles a minute (or hour) bucket. A window is sealed
 * (its maps swapped out, O(1)) when it ends or when the isolate holds `maxKeys` distinct counters;
 * `tick` then asks for a flush. While a window is open and no flush is due, `tick` asks once for a
 * timer to its end, so a quiet isolate still reports its last counts.
 *
 * Bounds. At most `2 × maxKeys` distinct counters (a new counter past that is counted as lost, an
 * existing one still increments), at most `maxShapes` remembered bulk answers, and at most
 * `maxPending` unsent messages: a failed (or timed-out) send keeps its messages (same ids, so a send that did get
 * through is still counted once) for the next flush; past the bound the oldest are dropped and
 * their counts added to `lost`, which rides along in the environment's next message. Nothing is
 * dropped without being counted.
 * @module
 */
import type { EvaluationResult } from "../../core/evaluation-types";
import { renderSlot } from "../../core/flag-results";
import { answeredWithValue } from "../../core/wire/usage-batch";
import type { KeyKind } from "../../core/wire/kv-layout";
import { withTimeout } from "../../core/timeout";
import type { EdgeRoute, StatusClass, UsageMessage } from "../../core/wire/queue-messages";

export interface AggregatorOptions {
  /** Longest a count waits in memory before it is sent (≤ 10 s in production). */
  windowMs: number;
  /** Distinct counters that force a flush before the window ends. */
  maxKeys?: number;
  /** Unsent messages kept for the next flush. */
  maxPending?: number;
  /** Remembered bulk answer shapes (see {@link Aggregator.cachedBulk}). */
  maxShapes?: number;
  /** Estimated bytes of evaluation rows per message (a queue message may be 128 KB). */
  maxMessageBytes?: number;
  /** Sends one batch; a rejection keeps the batch for the next flush. */
  send: (messages: UsageMessage[]) => Promise<void>;
  /** A send not settled by then counts as failed (its messages stay pending). */
  sendTimeoutMs?: number;
  now?: () => number;
  /** Prefix of message ids; unique per isolate. */
  isolateId?: string;
}

export const DEFAULT_MAX_KEYS = 5_000;
export const DEFAULT_MAX_PENDING = 200;
export const DEFAULT_MAX_SHAPES = 1_000;
/** Under 64 KB, the unit Queues bills an operation in (a row is estimated above its JSON size). */
export const DEFAULT_MAX_MESSAGE_BYTES = 60_000;
export const DEFAULT_SEND_TIMEOUT_MS = 5_000;
/** Past its send deadline, a flush that has not finished died with its request. */
const FLUSH_GRACE_MS = 1_000;
const MINUTE_MS = 60_000;
const SEP = "\u0000";

type Lost = { evaluations: number; requests: number };
const ONE_EVALUATION: Lost = { evaluations: 1, requests: 0 };
const ONE_REQUEST: Lost = { evaluations: 0, requests: 1 };
const NOTHING: Lost = { evaluations: 0, requests: 0 };

/** The counted items of one bulk answer: `flag SEP variant SEP reason` per flag answered with a value. */
interface Shape {
  rows: string[];
}

class EnvCounts {
  /**
   * Results counted in their own slot (core/flag-results.ts: one preallocated result per flag,
   * variant and reason, each with a slot), so an evaluation costs a field increment: no string is
   * built and no Map touched per evaluation (building and hashing `flag|variant|reason` keys cost
   * ~0.5 µs per evaluation, more than evaluating). Moved into `evaluations` when the window is
   * sealed, since the next window's counts start again in the same slots.
   */
  readonly inSlots: EvaluationResult[] = [];
  /** Result → count per key kind: slot counts of a sealed window, and results without a slot. */
  readonly evaluations: Record<KeyKind, Map<EvaluationResult, number>> = { client: new Map(), server: new Map() };
  /** Whole bulk answers, counted once each and expanded into rows only when sealed. */
  readonly shapes = new Map<Shape, { kind: KeyKind; count: number }>();
  /** `route SEP status class` → count */
  readonly requests = new Map<string, number>();
  rateLimited = 0;
  stale = 0;
  readonly cache = { memory: 0, cache: 0, miss: 0 };
}

interface Window {
  at: number;
  envs: Map<string, EnvCounts>;
}

export interface FlushOutcome {
  sent: number;
  failed: number;
  dropped: number;
}

export function statusClass(status: number): StatusClass {
  return status >= 500 ? "5xx" : status >= 400 ? "4xx" : status >= 300 ? "3xx" : "2xx";
}

export class Aggregator {
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly maxPending: number;
  private readonly maxShapes: number;
  private readonly maxMessageBytes: number;
  private readonly now: () => number;
  private readonly isolateId: string;
  private readonly send: (messages: UsageMessage[]) => Promise<void>;

  private current: Window | null = null;
  private keys = 0;
  private windowEnd = 0;
  private timerArmed = false;
  private readonly sealed: Window[] = [];
  private readonly pending: UsageMessage[] = [];
  private readonly lost = new Map<string, Lost>();
  private readonly shapeMemo = new Map<string, Shape>();
  private seq = 0;
  /** When the running flush started (undefined: none runs). */
  private flushingSince: number | undefined;
  private readonly sendTimeoutMs: number;

  constructor(options: AggregatorOptions) {
    this.windowMs = Math.max(1, options.windowMs);
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.maxShapes = options.maxShapes ?? DEFAULT_MAX_SHAPES;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.now = options.now ?? Date.now;
    this.isolateId = options.isolateId ?? crypto.randomUUID();
    this.send = options.send;
    this.sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  }

  // ---- counting (request path) ------------------------------------------------------------------

  /** Evaluations just computed. With `shapeKey` (a cacheable bulk answer) they are remembered for its repeats. */
  results(environment: string, kind: KeyKind, results: readonly EvaluationResult[], shapeKey?: string): void {
    const env = this.env(environment);
    if (!env) return;
    let shape: Shape | undefined;
    if (shapeKey !== undefined) shape = this.remember(shapeKey, { rows: [] });
    for (const r of results) {
      if (!answeredWithValue(r)) continue;
      if (shape) shape.rows.push(rowOf(r.key, r.variant, r.reason));
      const slot = renderSlot(r);
      // A slot another counter holds (a second aggregator in the isolate: tests) is left to it.
      if (!slot || (slot.countedBy !== env && slot.countedBy !== undefined)) {
        this.bump(env.evaluations[kind], r, environment, ONE_EVALUATION);
        continue;
      }
      if (slot.countedBy === undefined) {
        if (!this.admit(environment, ONE_EVALUATION)) continue;
        slot.countedBy = env;
        slot.client = 0;
        slot.server = 0;
        env.inSlots.push(r);
        this.keys++;
      }
      slot[kind]++;
    }
  }

  /**
   * A bulk answer served from the memo or the Cache API: `flagsJson` is its rendered `flags` array.
   * Its shape is parsed once per isolate and remembered under `shapeKey`; repeats cost one increment.
   */
  cachedBulk(environment: string, kind: KeyKind, shapeKey: string, flagsJson: string): void {
    const env = this.env(environment);
    if (!env) return;
    let shape = this.shapeMemo.get(shapeKey);
    if (!shape) shape = this.remember(shapeKey, { rows: rowsOfRendered(flagsJson) });
    const counted = env.shapes.get(shape);
    if (counted) counted.count++;
    else if (this.admit(environment, { evaluations: shape.rows.length, requests: 0 })) {
      env.shapes.set(shape, { kind, count: 1 });
      this.keys++;
    }
  }

  /** One answered request; `environment` null when no key identified one (not attributable). */
  request(environment: string | null, route: EdgeRoute, status: number, cache: string | null, stale: boolean): void {
    if (environment === null) return;
    const env = this.env(environment);
    if (!env) return;
    this.bump(env.requests, route + SEP + statusClass(status), environment, ONE_REQUEST);
    if (status === 429) env.rateLimited++;
    if (stale) env.stale++;
    if (cache === "memory" || cache === "cache" || cache === "miss") env.cache[cache]++;
  }

  /**
   * What the caller should do after a request: `flush` now (in waitUntil), arm a timer for
   * `timerMs` (in waitUntil, then flush), or nothing.
   */
  tick(): { flush: true } | { flush: false; timerMs?: number } {
    const now = this.now();
    if (this.current && (now >= this.windowEnd || this.keys >= this.maxKeys)) this.seal();
    if (this.sealed.length > 0) return { flush: true };
    if (this.current && !this.timerArmed) {
      this.timerArmed = true;
      return { flush: false, timerMs: Math.max(0, this.windowEnd - now) };
    }
    return { flush: false };
  }

  // ---- sending (waitUntil) ----------------------------------------------------------------------

  /**
   * Seals the current window if it has ended, then sends everything sealed or pending. One flush
   * at a time, and a call during a flush returns at once rather than awaiting it: that flush runs
   * in another request, and a request awaiting another's promise is cancelled as hung (see
   * edge/load-marks.ts). The running flush sends what is sealed meanwhile before it ends; one
   * overdue (its request died) is taken over.
   */
  flush(): Promise<FlushOutcome> {
    const now = this.now();
    if (this.current && now >= this.windowEnd) this.seal();
    if (this.flushingSince !== undefined && now - this.flushingSince <= this.sendTimeoutMs + FLUSH_GRACE_MS) {
      return Promise.resolve({ sent: 0, failed: 0, dropped: 0 });
    }
    const since = (this.flushingSince = now);
    return this.sendAll().finally(() => {
      if (this.flushingSince === since) this.flushingSince = undefined;
    });
  }

  private async sendAll(): Promise<FlushOutcome> {
    const outcome: FlushOutcome = { sent: 0, failed: 0, dropped: 0 };
    for (;;) {
      for (const w of this.sealed.splice(0)) this.pending.push(...this.build(w));
      // Environments with lost counts but no traffic still get them reported.
      for (const environment of [...this.lost.keys()]) {
        if (!this.pending.some((m) => m.environment === environment))
          this.pending.push(this.message(environment, this.now(), new EnvCounts(), []));
      }
      if (this.pending.length === 0) return outcome;
      // Messages stay pending until their send succeeds: a flush that dies with its request (or a
      // send that times out) leaves them for the next one, under the same ids, so the consumer
      // counts a message that did get through once.
      const batch = this.pending.slice();
      try {
        await withTimeout(this.send(batch), this.sendTimeoutMs, "insights: queue send timed out");
      } catch (err) {
        console.error(
          JSON.stringify({
            level: "error",
            message: "insights: queue send failed, kept for the next flush",
            messages: batch.length,
            error: String(err),
          }),
        );
        // The oldest go first when over the bound; what they counted is reported as lost.
        const dropped =
          this.pending.length > this.maxPending ? this.pending.splice(0, this.pending.length - this.maxPending) : [];
        for (const m of dropped) {
          const lost = this.lostOf(m.environment);
          lost.evaluations += m.evaluations.reduce((s, row) => s + row[4], 0) + m.lost.evaluations;
          lost.requests += m.requests.reduce((s, row) => s + row[2], 0) + m.lost.requests;
        }
        outcome.failed += batch.length;
        outcome.dropped += dropped.length;
        return outcome;
      }
      const sent = new Set(batch);
      const rest = this.pending.filter((m) => !sent.has(m));
      this.pending.length = 0;
      this.pending.push(...rest);
      outcome.sent += batch.length;
    }
  }

  /** For tests and operators: what this isolate holds right now. */
  stats(): { keys: number; sealed: number; pending: number; lost: Record<string, Lost> } {
    return {
      keys: this.keys,
      sealed: this.sealed.length,
      pending: this.pending.length,
      lost: Object.fromEntries(this.lost),
    };
  }

  // ---- internals --------------------------------------------------------------------------------

  private env(environment: string): EnvCounts | null {
    // A count after the window's end opens the next window (the ended one waits for the flush).
    const at = this.now();
    if (this.current && at >= this.windowEnd) this.seal();
    if (!this.current) {
      this.current = { at, envs: new Map() };
      this.windowEnd = Math.min(at + this.windowMs, (Math.floor(at / MINUTE_MS) + 1) * MINUTE_MS);
      this.timerArmed = false;
    }
    let env = this.current.envs.get(environment);
    if (!env) {
      if (!this.admit(environment, NOTHING)) return null;
      env = new EnvCounts();
      this.current.envs.set(environment, env);
      this.keys++;
    }
    return env;
  }

  /** Whether one more distinct counter fits; when not, what it would have counted is added to `lost`. */
  private admit(environment: string, wouldCount: Lost): boolean {
    if (this.keys < 2 * this.maxKeys) return true;
    const lost = this.lostOf(environment);
    lost.evaluations += wouldCount.evaluations;
    lost.requests += wouldCount.requests;
    return false;
  }

  private bump<K>(map: Map<K, number>, key: K, environment: string, lost: Lost): void {
    const n = map.get(key);
    if (n !== undefined) map.set(key, n + 1);
    else if (this.admit(environment, lost)) {
      map.set(key, 1);
      this.keys++;
    }
  }

  private lostOf(environment: string): Lost {
    let lost = this.lost.get(environment);
    if (!lost) this.lost.set(environment, (lost = { evaluations: 0, requests: 0 }));
    return lost;
  }

  private remember(key: string, shape: Shape): Shape {
    if (this.shapeMemo.size >= this.maxShapes) this.shapeMemo.delete(this.shapeMemo.keys().next().value as string);
    this.shapeMemo.set(key, shape);
    return shape;
  }

  private seal(): void {
    if (!this.current) return;
    for (const counts of this.current.envs.values()) {
      for (const r of counts.inSlots) {
        const slot = renderSlot(r)!;
        for (const kind of ["client", "server"] as const) {
          if (slot[kind] > 0) counts.evaluations[kind].set(r, (counts.evaluations[kind].get(r) ?? 0) + slot[kind]);
        }
        slot.countedBy = undefined;
      }
      counts.inSlots.length = 0;
    }
    this.sealed.push(this.current);
    this.current = null;
    this.keys = 0;
    this.timerArmed = false;
  }

  /** One window → messages, one environment each, evaluation rows split by size. */
  private build(w: Window): UsageMessage[] {
    const out: UsageMessage[] = [];
    for (const [environment, counts] of w.envs) {
      const totals = new Map<string, number>();
      for (const kind of ["client", "server"] as const) {
        for (const [r, n] of counts.evaluations[kind]) {
          const k = kind + SEP + rowOf(r.key, r.variant, r.reason);
          totals.set(k, (totals.get(k) ?? 0) + n);
        }
      }
      for (const [shape, { kind, count }] of counts.shapes) {
        for (const row of shape.rows) {
          const k = kind + SEP + row;
          totals.set(k, (totals.get(k) ?? 0) + count);
        }
      }
      const chunks: UsageMessage["evaluations"][] = [[]];
      let bytes = 0;
      for (const [k, n] of totals) {
        const [kind, flag, variant, reason] = k.split(SEP);
        const size = flag.length + variant.length + reason.length + 40;
        if (bytes + size > this.maxMessageBytes && chunks[chunks.length - 1].length > 0) {
          chunks.push([]);
          bytes = 0;
        }
        chunks[chunks.length - 1].push([flag, variant, reason, kind as KeyKind, n]);
        bytes += size;
      }
      // Request counters and the other totals travel with the first chunk only.
      out.push(this.message(environment, w.at, counts, chunks[0]));
      for (const rows of chunks.slice(1)) out.push(this.message(environment, w.at, new EnvCounts(), rows));
    }
    return out;
  }

  private message(
    environment: string,
    at: number,
    counts: EnvCounts,
    evaluations: UsageMessage["evaluations"],
  ): UsageMessage {
    const lost = this.lost.get(environment) ?? { evaluations: 0, requests: 0 };
    this.lost.delete(environment);
    const requests: UsageMessage["requests"] = [];
    for (const [k, n] of counts.requests) {
      const [route, cls] = k.split(SEP) as [EdgeRoute, StatusClass];
      requests.push([route, cls, n]);
    }
    return {
      type: "usage",
      id: `${this.isolateId}-${++this.seq}`,
      environment,
      at,
      evaluations,
      requests,
      rateLimited: counts.rateLimited,
      stale: counts.stale,
      cache: { ...counts.cache },
      lost,
    };
  }
}

/** `flag SEP variant SEP reason`: one counted row of a message. */
function rowOf(flag: string, variant: string | undefined, reason: string): string {
  return flag + SEP + (variant ?? "") + SEP + reason;
}

/** The counted rows of a rendered bulk `flags` array (OFREP items): those with a `value`. */
function rowsOfRendered(flagsJson: string): string[] {
  const rows: string[] = [];
  let items: unknown;
  try {
    items = JSON.parse(flagsJson);
  } catch {
    return rows;
  }
  if (!Array.isArray(items)) return rows;
  for (const item of items as { key?: unknown; value?: unknown; variant?: unknown; reason?: unknown }[]) {
    if (item && typeof item.key === "string" && item.value !== undefined && typeof item.reason === "string") {
      rows.push(rowOf(item.key, typeof item.variant === "string" ? item.variant : undefined, item.reason));
    }
  }
  return rows;
}
