/**
 * The SDK's usage batching with a fake send: windows, batch ids kept across re-sends, the bounds
 * on memory and what is reported as lost when they bind.
 */
import { describe, expect, it } from "vitest";
import type { EvaluationResult } from "../../src/core/evaluation-types";
import type { UsageBatch } from "../../src/core/wire/usage-batch";
import { backoffMs } from "../../src/sdk/backoff";
import { UsageReporter, type SendOutcome } from "../../src/sdk/usage-reporter";
import { eventually } from "../support/eventually";

const result = (key: string, variant = "on", reason: EvaluationResult["reason"] = "STATIC"): EvaluationResult =>
  Object.freeze({ key, variant, reason, value: true, metadata: {} });

/** A send that records every attempt and answers from `outcomes` (then "sent"). */
function recorder(outcomes: SendOutcome[] = []) {
  const attempts: UsageBatch[] = [];
  const send = async (batch: UsageBatch): Promise<SendOutcome> => {
    attempts.push(structuredClone(batch));
    return outcomes.shift() ?? "sent";
  };
  return { attempts, send };
}

const total = (batches: UsageBatch[]) =>
  batches.reduce((s, b) => s + b.evaluations.reduce((n, r) => n + r[3], 0) + (b.lost ?? 0), 0);

describe("UsageReporter", () => {
  it("sends nothing per evaluation: one batch per window, rows summed per flag, variant and reason", async () => {
    const { attempts, send } = recorder();
    const reporter = new UsageReporter({ send, intervalMs: 60 });
    const on = result("a");
    // Two results of different snapshot versions standing for one row.
    const onAgain = result("a");
    for (let i = 0; i < 1_000; i++) reporter.count(on);
    reporter.count(onAgain);
    reporter.count(result("a", "off", "DEFAULT"));
    expect(attempts).toHaveLength(0);
    await eventually(() => attempts.length === 1, 2_000);
    expect(attempts[0]!.evaluations.sort()).toEqual([
      ["a", "off", "DEFAULT", 1],
      ["a", "on", "STATIC", 1_001],
    ]);
    expect(reporter.stats()).toMatchObject({ keys: 0, pending: 0 });
  });

  it("ends a window at the minute boundary, so a batch never straddles two minutes", async () => {
    const { attempts, send } = recorder();
    let now = Date.UTC(2026, 0, 1, 10, 0, 59, 970);
    const reporter = new UsageReporter({ send, intervalMs: 10_000, now: () => now });
    reporter.count(result("a"));
    // The window's timer is due in 30 ms (at the minute), not in 10 s.
    await eventually(() => attempts.length === 1, 2_000);
    expect(attempts[0]!.at).toBe(Date.UTC(2026, 0, 1, 10, 0, 59, 970));
    now += 40;
    reporter.count(result("a"));
    await reporter.flush();
    expect(attempts[1]!.at).toBe(Date.UTC(2026, 0, 1, 10, 1, 0, 10));
  });

  it("re-sends an undelivered batch with the same id after a backoff, and drops one refused for good", async () => {
    const { attempts, send } = recorder(["retry", "retry", "drop", "sent"]);
    const reporter = new UsageReporter({ send, intervalMs: 1_000, retry: { minMs: 10, maxMs: 20 } });
    reporter.count(result("a"));
    await reporter.flush();
    await eventually(() => attempts.length === 3, 2_000);
    expect(attempts.map((b) => b.id)).toEqual([attempts[0]!.id, attempts[0]!.id, attempts[0]!.id]);
    expect(reporter.stats().pending).toBe(0);
    reporter.count(result("b"));
    await reporter.flush();
    expect(attempts).toHaveLength(4);
    expect(attempts[3]!.id).not.toBe(attempts[0]!.id);
  });

  it("bounds distinct counters and unsent batches, reporting what it dropped as lost", async () => {
    const { attempts, send } = recorder(Array(50).fill("retry"));
    const reporter = new UsageReporter({
      send,
      intervalMs: 60_000,
      maxKeys: 3,
      maxPending: 2,
      retry: { minMs: 60_000, maxMs: 60_000 },
    });
    const a = result("a");
    reporter.count(a);
    for (const k of ["b", "c", "d", "e"]) reporter.count(result(k));
    reporter.count(a); // an existing counter still counts
    expect(reporter.stats()).toMatchObject({ keys: 3, lost: 2 });
    await reporter.flush(); // batch 1 (a:2, b, c, lost 2) fails and waits for its retry
    for (let w = 0; w < 3; w++) {
      reporter.count(result("x"));
      await reporter.flush();
    }
    // Four batches made, the two newest kept; each dropped batch's counts (its own `lost`
    // included) ride in the batch that displaced it. Nothing counted vanished: 4 + 2 lost + 3.
    expect(attempts[0]!.lost).toBe(2);
    expect(reporter.stats().pending).toBe(2);
    const held = (reporter as unknown as { pending: UsageBatch[] }).pending;
    expect(held.map((b) => b.lost)).toEqual([6, 1]);
    expect(total(held)).toBe(9);
  });

  it("draws retry delays that double up to the ceiling, spread around each step", () => {
    const b = { minMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(a, b, () => 0.5))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffMs(0, b, () => 0)).toBe(50);
    expect(backoffMs(0, b, () => 0.999)).toBeLessThanOrEqual(150);
  });
});
