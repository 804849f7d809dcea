/**
 * Usage row writes per minute for one environment served by 1,000 simulated isolates (`npm run
 * bench:publish` imports this): each isolate sends a summary every 10 s of a 50-flag bulk workload
 * (2 variants, 2 reasons per flag), as the design doc's traffic has it. Counts the SQLite rows the
 * store writes: merged once a minute (usage-merge.ts, what the store does now) against one
 * message at a time (before).
 * @module
 */
import type { UsageMessage } from "../../src/core/wire/queue-messages";
import { emptyMerge, mergeMessage, rowWrites, unmergedRowWrites } from "../../src/store/insights/usage-merge";

const ISOLATES = 1_000;
const WINDOWS_PER_MINUTE = 6;
const FLAGS = 50;

export async function measure(): Promise<Record<string, number>> {
  const at = Date.UTC(2026, 11, 7, 12, 0, 0);
  const merged = emptyMerge();
  let unmerged = 0;
  let evaluations = 0;
  const t0 = performance.now();
  for (let i = 0; i < ISOLATES; i++) {
    for (let w = 0; w < WINDOWS_PER_MINUTE; w++) {
      const rows: UsageMessage["evaluations"] = [];
      for (let f = 0; f < FLAGS; f++) {
        rows.push([`flag-${f}`, "on", "TARGETING_MATCH", "server", 3]);
        rows.push([`flag-${f}`, "off", "DEFAULT", "server", 2]);
      }
      const m: UsageMessage = {
        type: "usage",
        id: `iso${i}-${w}`,
        environment: "bench",
        at: at + w * 10_000,
        evaluations: rows,
        requests: [["bulk", "2xx", 1]],
        rateLimited: 0,
        stale: 0,
        cache: { memory: 0, cache: 0, miss: 1 },
        lost: { evaluations: 0, requests: 0 },
      };
      evaluations += rows.reduce((s, r) => s + r[4], 0);
      unmerged += unmergedRowWrites(m);
      mergeMessage(merged, m);
    }
  }
  const mergeMs = performance.now() - t0;
  return {
    isolates: ISOLATES,
    messagesPerMinute: ISOLATES * WINDOWS_PER_MINUTE,
    evaluationsPerMinute: evaluations,
    rowWritesPerMinuteMerged: rowWrites(merged),
    rowWritesPerMinuteUnmerged: unmerged,
    mergeMs: Math.round(mergeMs),
  };
}
