/**
 * Per-SDK-key token bucket, held in isolate memory.
 *
 * Why not the Workers Rate Limiting binding: it counts per Cloudflare location in fixed 10 s or
 * 60 s wall-clock windows (a limit can lift early, and per-second rates cannot be expressed) and it
 * answers only allowed/blocked, so no honest `Retry-After` can be computed. A per-isolate bucket
 * gives exact refill times and costs no I/O. Its limit is per isolate: a key spread over many
 * isolates gets up to (isolates × rate); that is the price of no round-trip on the hot path, and
 * it still stops one runaway client hammering one location.
 *
 * Rates come from RATE_LIMIT_PER_SECOND (refill) and RATE_LIMIT_BURST (capacity).
 * @module
 */

export const DEFAULT_RATE_PER_SECOND = 1000;
/** Buckets remembered per limiter; idle ones are dropped first (a full bucket carries no state worth keeping). */
const MAX_BUCKETS = 10_000;

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
  ) {}

  take(id: string, now = Date.now()): Take {
    const b = this.refill(id, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return this.refusal(b);
  }

  /** Gives back one token taken by {@link take} (never above the burst). */
  refund(id: string): void {
    const b = this.buckets.get(id);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }

  private refill(id: string, now: number): Bucket {
    let b = this.buckets.get(id);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: this.burst, at: now };
      this.buckets.set(id, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
      b.at = now;
    }
    return b;
  }

  private refusal(b: Bucket): Take {
    // Integer seconds until one whole token is back, never 0 (RFC 9110 delay-seconds).
    const seconds = this.ratePerSecond > 0 ? (1 - b.tokens) / this.ratePerSecond : 3600;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(seconds)) };
  }
}

const limiters = new Map<string, TokenBuckets>();

/** The isolate's limiter for these settings (vars are fixed per deployment; tests may pass others). */
export function limiterFor(env: { RATE_LIMIT_PER_SECOND?: string; RATE_LIMIT_BURST?: string }): TokenBuckets {
  const id = `${env.RATE_LIMIT_PER_SECOND ?? ""}/${env.RATE_LIMIT_BURST ?? ""}`;
  let limiter = limiters.get(id);
  if (!limiter) {
    const rate = Number(env.RATE_LIMIT_PER_SECOND);
    const burst = Number(env.RATE_LIMIT_BURST);
    const r = Number.isFinite(rate) && rate >= 0 ? rate : DEFAULT_RATE_PER_SECOND;
    limiter = new TokenBuckets(r, Number.isFinite(burst) && burst >= 1 ? burst : Math.max(1, r * 2));
    limiters.set(id, limiter);
  }
  return limiter;
}

/**
 * Failed authentications (made-up or revoked SDK keys, bad stream tokens) per client address and
 * isolate: each costs a digest or an HMAC and often a KV read, so an address that keeps failing is
 * answered 429 before that work. Generous enough for a misconfigured app, tight enough that a
 * flood of made-up keys costs at most {@link AUTH_FAILURE_BURST} lookups, then
 * {@link AUTH_FAILURES_PER_SECOND} per second, per address per isolate.
 */
export const AUTH_FAILURES_PER_SECOND = 10;
export const AUTH_FAILURE_BURST = 100;
const authFailures = new TokenBuckets(AUTH_FAILURES_PER_SECOND, AUTH_FAILURE_BURST);

/** The client's address as Cloudflare reports it; requests without one (local tools) share "local". */
export function clientAddress(headers: Headers): string {
  return headers.get("cf-connecting-ip") ?? "local";
}

/**
 * The failure budget of one address, for `authenticate` (sdk-keys.ts) and the stream route. A
 * lookup spends before it runs (so concurrent requests cannot all pass a check made before any of
 * them failed) and is refunded when the key turns out to be valid.
 */
export function failureGate(address: string, buckets: TokenBuckets = authFailures) {
  return {
    spend: (): Take => buckets.take(address),
    refund: (): void => buckets.refund(address),
  };
}
