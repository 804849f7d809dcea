/**
 * The timing loop the in-process benchmarks share (`npm run bench`, `npm run bench:sdk`): a batch
 * size calibrated to a target duration, then a warm-up, so every timed batch runs JIT-compiled
 * code for about the same wall time whatever one operation costs.
 * @module
 */

/** Runs `n` operations starting at index `start`; returns a checksum so no work can be dropped. */
export type Runner = (start: number, n: number) => number | Promise<number>;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const nowNs = () => process.hrtime.bigint();

/**
 * Calibrates a batch size of about `batchMs` for `run(start, n)` (n operations), then runs
 * batches for `warmupMs`. Returns the batch size, the next start index and the checksum so far.
 * Sized by the process's CPU time, not wall time: on a busy machine a batch descheduled for a few
 * milliseconds would otherwise look long and be sized at a fraction of `batchMs`.
 */
export async function calibrate(
  run: Runner,
  batchMs: number,
  warmupMs: number,
): Promise<{ n: number; start: number; checksum: number }> {
  let n = 16;
  let start = 0;
  let checksum = 0;
  for (;;) {
    const c0 = process.cpuUsage();
    checksum += await run(start, n);
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    start += n;
    if (ms >= 5 || n >= 1 << 24) {
      n = Math.max(1, Math.round((n * batchMs) / Math.max(ms, 0.001)));
      break;
    }
    n *= 4;
  }
  const warmEnd = Date.now() + warmupMs;
  while (Date.now() < warmEnd) {
    checksum += await run(start, n);
    start += n;
  }
  return { n, start, checksum };
}

/** Times one batch: wall and CPU nanoseconds per operation. */
export async function timeBatch(
  run: Runner,
  start: number,
  n: number,
): Promise<{ wallNs: number; cpuNs: number; checksum: number }> {
  const c0 = process.cpuUsage();
  const t0 = nowNs();
  const checksum = await run(start, n);
  const wallNs = Number(nowNs() - t0) / n;
  const c = process.cpuUsage(c0);
  return { wallNs, cpuNs: ((c.user + c.system) * 1000) / n, checksum };
}
