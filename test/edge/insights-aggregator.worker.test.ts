import { describe, expect, it } from "vitest";
import type { EvaluationResult } from "../../src/core/evaluation-types";
import { compileEnvironment } from "../../src/core/compile";
import { FlagResults } from "../../src/core/flag-results";
import { Aggregator } from "../../src/edge/insights/aggregator";
import type { UsageMessage } from "../../src/core/wire/queue-messages";

const T0 = Date.UTC(2026, 11, 3, 17, 0, 5); // 5 s into a minute

const flags = new Map<string, FlagResults>();
/**
 * The engine's result for (flag, variant, reason): one preallocated object each, as compiled
 * flags return them (core/flag-results.ts), so counting by identity sees what production sees.
 */
function result(
  key: string,
  variant: string,
  reason: "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DEFAULT",
  value: unknown = true,
): EvaluationResult {
  const id = `${key}\u0000${JSON.stringify(value)}`;
  let f = flags.get(id);
  if (!f) flags.set(id, (f = new FlagResults(key, { on: true, x: true, [variant]: value }, {})));
  return f.get(variant, reason)!;
}

function setup(options: Partial<ConstructorParameters<typeof Aggregator>[0]> = {}) {
  const clock = { now: T0 };
  const sent: UsageMessage[][] = [];
  const control = { fail: false };
  const agg = new Aggregator({
    windowMs: 10_000,
    isolateId: "iso",
    now: () => clock.now,
    send: async (messages) => {
      if (control.fail) throw new Error("queue down");
      sent.push(structuredClone(messages));
    },
    ...options,
  });
  return { agg, clock, sent, control };
}

const total = (m: UsageMessage) => m.evaluations.reduce((s, r) => s + r[4], 0);

describe("insights aggregator", () => {
  it("counts answered values per flag, variant, reason and key kind; errors, disabled and valueless answers count nothing", async () => {
    const { agg, clock, sent } = setup();
    agg.results("prod", "server", [result("a", "on", "TARGETING_MATCH"), result("b", "x", "STATIC")]);
    agg.results("prod", "server", [result("a", "on", "TARGETING_MATCH")]);
    agg.results("prod", "client", [result("a", "on", "TARGETING_MATCH")]);
    agg.results("prod", "server", [
      { key: "c", reason: "DISABLED", metadata: {} },
      { key: "d", reason: "DEFAULT", metadata: {} },
      { key: "e", reason: "ERROR", errorCode: "TYPE_MISMATCH", metadata: {} },
    ]);
    agg.request("prod", "single", 200, null, false);
    agg.request("prod", "bulk", 429, null, false);
    agg.request(null, "bulk", 401, null, false);
    clock.now += 10_000;
    await agg.flush();
    expect(sent).toHaveLength(1);
    const [m] = sent[0];
    expect(m).toMatchObject({
      type: "usage",
      id: "iso-1",
      environment: "prod",
      at: T0,
      rateLimited: 1,
      lost: { evaluations: 0, requests: 0 },
    });
    expect(m.evaluations.sort()).toEqual([
      ["a", "on", "TARGETING_MATCH", "client", 1],
      ["a", "on", "TARGETING_MATCH", "server", 2],
      ["b", "x", "STATIC", "server", 1],
    ]);
    expect(m.requests.sort()).toEqual([
      ["bulk", "4xx", 1],
      ["single", "2xx", 1],
    ]);
  });

  it("asks for a timer once per window and a flush when the window has passed; nothing is sent before", async () => {
    const { agg, clock, sent } = setup();
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    expect(agg.tick()).toEqual({ flush: false, timerMs: 10_000 });
    clock.now += 4_000;
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    expect(agg.tick()).toEqual({ flush: false });
    await agg.flush(); // too early: the open window is not sent
    expect(sent).toHaveLength(0);
    clock.now += 6_000;
    expect(agg.tick()).toEqual({ flush: true });
    await agg.flush();
    expect(sent.flat().map(total)).toEqual([2]);
  });

  it("never lets a window cross a minute boundary", async () => {
    const { agg, clock, sent } = setup();
    clock.now = Date.UTC(2026, 11, 3, 17, 0, 57);
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    expect(agg.tick()).toEqual({ flush: false, timerMs: 3_000 });
    clock.now += 3_000;
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    await agg.flush();
    clock.now += 10_000;
    await agg.flush();
    expect(sent.flat().map((m) => [new Date(m.at).toISOString(), total(m)])).toEqual([
      ["2026-12-03T17:00:57.000Z", 1],
      ["2026-12-03T17:01:00.000Z", 1],
    ]);
  });

  it("flushes before the window ends once it holds maxKeys distinct counters", async () => {
    const { agg, sent } = setup({ maxKeys: 10 });
    // The environment's own entry is one of the counters.
    for (let i = 0; i < 8; i++) agg.results("prod", "server", [result(`f${i}`, "on", "STATIC")]);
    expect(agg.tick().flush).toBe(false);
    agg.results("prod", "server", [result("f8", "on", "STATIC")]);
    expect(agg.tick()).toEqual({ flush: true });
    await agg.flush();
    expect(sent.flat().map(total)).toEqual([9]);
    expect(agg.stats().keys).toBe(0);
  });

  it("stays bounded when it cannot flush: new counters past 2 × maxKeys are counted as lost, existing ones still count", async () => {
    const { agg, clock, sent } = setup({ maxKeys: 5 });
    // Never ticked or flushed: the window stays open (one environment counter + 9 flags = 10 keys).
    for (let i = 0; i < 9; i++) agg.results("prod", "server", [result(`f${i}`, "on", "STATIC")]);
    for (let i = 0; i < 20; i++) agg.results("prod", "server", [result(`g${i}`, "on", "STATIC")]);
    agg.results("prod", "server", [result("f0", "on", "STATIC")]);
    expect(agg.stats().keys).toBe(10);
    expect(agg.stats().lost).toEqual({ prod: { evaluations: 20, requests: 0 } });
    clock.now += 10_000;
    await agg.flush();
    const [m] = sent.flat();
    expect(total(m)).toBe(10);
    expect(m.lost).toEqual({ evaluations: 20, requests: 0 });
    expect(agg.stats().lost).toEqual({});
  });

  it("keeps a failed send for the next flush with the same ids, and counts what it had to drop", async () => {
    const { agg, clock, sent, control } = setup({ maxPending: 2 });
    control.fail = true;
    for (let w = 0; w < 3; w++) {
      agg.results("prod", "server", [result("a", "on", "STATIC"), result("b", "on", "STATIC")]);
      agg.request("prod", "bulk", 200, "miss", false);
      clock.now += 10_000;
      expect(await agg.flush()).toMatchObject({ sent: 0 });
    }
    // Three windows failed; two messages are kept, the oldest was dropped and counted.
    expect(agg.stats()).toMatchObject({ pending: 2, lost: { prod: { evaluations: 2, requests: 1 } } });
    control.fail = false;
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    clock.now += 10_000;
    await agg.flush();
    const messages = sent.flat();
    expect(messages.map((m) => m.id)).toEqual(["iso-2", "iso-3", "iso-4"]);
    expect(messages.map(total)).toEqual([2, 2, 1]);
    // The next message built after the drop carries the lost counts.
    expect(messages[2].lost).toEqual({ evaluations: 2, requests: 1 });
    expect(agg.stats()).toMatchObject({ pending: 0, lost: {} });
  });

  it("counts a reused bulk answer from its shape: parsed once, then one increment per repeat", async () => {
    const { agg, clock, sent } = setup();
    const flagsJson = JSON.stringify([
      { key: "a", value: true, variant: "on", reason: "STATIC" },
      { key: "b", reason: "DISABLED" },
      { key: "c", value: "x", reason: "DEFAULT" },
    ]);
    for (let i = 0; i < 1000; i++) agg.cachedBulk("prod", "client", "memo-1", flagsJson);
    // A rendered (miss) answer registers its shape too; the later hits reuse it.
    agg.results("prod", "client", [result("a", "on", "STATIC")], "memo-2");
    for (let i = 0; i < 4; i++) agg.cachedBulk("prod", "client", "memo-2", "not even json");
    expect(agg.stats().keys).toBeLessThanOrEqual(4);
    clock.now += 10_000;
    await agg.flush();
    expect(sent.flat()[0].evaluations.sort()).toEqual([
      ["a", "on", "STATIC", "client", 1005],
      ["c", "", "DEFAULT", "client", 1000],
    ]);
  });

  it("counts a compiled environment's results in their slots: windows and aggregators each keep their own counts", async () => {
    const compiled = compileEnvironment({
      flags: [
        {
          key: "a",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "on",
          enabled: true,
          clientVisible: true,
        },
        {
          key: "b",
          type: "string",
          variants: { x: "x", y: "y" },
          defaultVariant: "y",
          enabled: true,
          clientVisible: true,
        },
      ],
      segments: [],
    });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const answers = () => compiled.value.evaluateAll({ targetingKey: "u" });
    const one = setup();
    const two = setup({ isolateId: "iso-2" });
    for (let i = 0; i < 3; i++) one.agg.results("prod", "server", answers());
    one.agg.results("prod", "client", answers());
    // A second aggregator counting the very same result objects meanwhile takes nothing from the first.
    two.agg.results("prod", "server", answers());
    // A copy without the slot counts like the original.
    one.agg.results(
      "prod",
      "server",
      answers().map((r) => ({ ...r })),
    );
    one.clock.now += 10_000;
    // The next window of the first counts the same results again while the sealed one waits to be sent.
    one.agg.results("prod", "server", answers());
    await one.agg.flush();
    two.clock.now += 10_000;
    await two.agg.flush();
    const rows = (m: UsageMessage) => [...m.evaluations].sort();
    expect(rows(one.sent[0][0])).toEqual([
      ["a", "on", "STATIC", "client", 1],
      ["a", "on", "STATIC", "server", 4],
      ["b", "y", "STATIC", "client", 1],
      ["b", "y", "STATIC", "server", 4],
    ]);
    expect(rows(two.sent[0][0])).toEqual([
      ["a", "on", "STATIC", "server", 1],
      ["b", "y", "STATIC", "server", 1],
    ]);
    one.clock.now += 10_000;
    await one.agg.flush();
    expect(rows(one.sent[1][0])).toEqual([
      ["a", "on", "STATIC", "server", 1],
      ["b", "y", "STATIC", "server", 1],
    ]);
  });

  it("splits a large window into messages under the size bound, request counters in the first only", async () => {
    const { agg, clock, sent } = setup({ maxMessageBytes: 1_000 });
    for (let i = 0; i < 100; i++) agg.results("prod", "server", [result(`flag-${i}`, "on", "STATIC")]);
    agg.request("prod", "bulk", 200, null, true);
    clock.now += 10_000;
    await agg.flush();
    const messages = sent.flat();
    expect(messages.length).toBeGreaterThan(3);
    expect(messages.reduce((s, m) => s + total(m), 0)).toBe(100);
    expect(messages.every((m) => JSON.stringify(m.evaluations).length < 1_500)).toBe(true);
    expect(messages.map((m) => m.requests.length + m.stale)).toEqual([2, ...messages.slice(1).map(() => 0)]);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
  });

  // A flush runs in one request's waitUntil; another request awaiting it would be cancelled as
  // hung by the runtime when the first request ends, and a hung send would stall every flush after.
  it("a flush never waits on another request's flush; one whose request died is taken over with the same ids", async () => {
    let hang = true;
    const sent: UsageMessage[][] = [];
    const clock = { now: T0 };
    const agg = new Aggregator({
      windowMs: 10_000,
      isolateId: "iso",
      now: () => clock.now,
      sendTimeoutMs: 600_000,
      send: (messages) =>
        hang ? new Promise<void>(() => {}) : (sent.push(structuredClone(messages)), Promise.resolve()),
    });
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    clock.now += 10_000;
    void agg.flush(); // request A: its send never settles (A was cancelled)
    agg.results("prod", "server", [result("a", "on", "STATIC")]);
    clock.now += 10_000;
    // Request B: answered at once, not chained on A's send.
    expect(await agg.flush()).toEqual({ sent: 0, failed: 0, dropped: 0 });
    expect(agg.stats().pending).toBe(1);
    // Long past A's deadline, the next flush sends A's message again (same id) and B's window.
    hang = false;
    clock.now += 700_000;
    expect(await agg.flush()).toMatchObject({ sent: 2 });
    expect(sent.flat().map((m) => [m.id, total(m)])).toEqual([
      ["iso-1", 1],
      ["iso-2", 1],
    ]);
  });

  it("a send that never answers times out and keeps its messages for the next flush", async () => {
    let hang = true;
    const sent: UsageMessage[] = [];
    const clock = { now: T0 };
    const agg = new Aggregator({
      windowMs: 10_000,
      isolateId: "iso",
      now: () => clock.now,
      sendTimeoutMs: 20,
      send: (messages) =>
        hang ? new Promise<void>(() => {}) : (sent.push(...structuredClone(messages)), Promise.resolve()),
    });
    agg.results("prod", "server", [result("a", "on", "STATIC"), result("b", "on", "STATIC")]);
    clock.now += 10_000;
    expect(await agg.flush()).toMatchObject({ sent: 0, failed: 1 });
    hang = false;
    clock.now += 1;
    expect(await agg.flush()).toMatchObject({ sent: 1 });
    expect(sent.map((m) => [m.id, total(m)])).toEqual([["iso-1", 2]]);
  });
});
