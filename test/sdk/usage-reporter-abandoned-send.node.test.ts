/**
 * UsageReporter's `abandonAfterMs` (what WorkersProvider sets): in a Worker, a send runs in the
 * `waitUntil` of the request that flushed, and dies with it without ever settling. The reporter
 * must not wait for it forever: once it is overdue, the next flush sends that batch again (same
 * id, so the store counts it once) and what was counted since.
 */
import { describe, expect, it } from "vitest";
import type { EvaluationResult } from "../../src/core/evaluation-types";
import type { UsageBatch } from "../../src/core/wire/usage-batch";
import { UsageReporter, type SendOutcome } from "../../src/sdk/usage-reporter";

const result = (variant: string): EvaluationResult => ({
  key: "banner",
  variant,
  value: variant === "on",
  reason: "STATIC",
  metadata: {},
});
const on = result("on");
const off = result("off");

function reporter(abandonAfterMs: number | undefined) {
  let now = 1_000_000;
  const attempts: UsageBatch[] = [];
  let hang = true;
  const r = new UsageReporter({
    now: () => now,
    instanceId: "iso",
    intervalMs: 60_000,
    abandonAfterMs,
    send: (batch) => {
      attempts.push(structuredClone(batch));
      // The first send dies with its request: it never settles.
      if (hang) {
        hang = false;
        return new Promise<SendOutcome>(() => {});
      }
      return Promise.resolve("sent");
    },
  });
  return { r, attempts, advance: (ms: number) => (now += ms) };
}

describe("UsageReporter: a send that died with its request", () => {
  it("is sent again (same id) once overdue, followed by what was counted since", async () => {
    const { r, attempts, advance } = reporter(30_000);
    r.count(on);
    r.count(on);
    void r.flush();
    expect(attempts.map((b) => b.id)).toEqual(["iso-1"]);
    r.count(off);
    advance(10_000);
    await r.flush(); // the first send may still be under way: nothing sent twice yet
    expect(attempts.map((b) => b.id)).toEqual(["iso-1"]);
    advance(25_000);
    await r.flush();
    expect(attempts.map((b) => b.id)).toEqual(["iso-1", "iso-1", "iso-2"]);
    expect(attempts[1]!.evaluations).toEqual([["banner", "on", "STATIC", 2]]);
    expect(attempts[2]!.evaluations).toEqual([["banner", "off", "STATIC", 1]]);
    expect(r.stats().pending).toBe(0);
  });

  it("without the option (Node, where sends time out themselves) a running send is never doubled", async () => {
    const { r, attempts, advance } = reporter(undefined);
    r.count(on);
    void r.flush();
    advance(3_600_000);
    r.count(off);
    await r.flush();
    expect(attempts.map((b) => b.id)).toEqual(["iso-1"]);
    expect(r.stats().pending).toBe(2);
  });
});
