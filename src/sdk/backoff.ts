/**
 * Retry delays for the SDK's reconnects and usage re-sends: doubling from `minMs` up to `maxMs`,
 * each drawn in [½, 1½) of its step so that the processes a server restart disconnects all at
 * once do not come back in the same instant.
 * @module
 */
export interface Backoff {
  minMs: number;
  maxMs: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffMs(attempt: number, { minMs, maxMs }: Backoff, random: () => number = Math.random): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(step * (0.5 + random()));
}
