import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { retryDelaySeconds } from "../../src/queue/consumer";
import { INSIGHTS_DLQ, INSIGHTS_QUEUE, type UsageMessage } from "../../src/core/wire/queue-messages";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { DAY_MS, HOUR_MS } from "../../src/store/insights/usage-repo";
import { api, boolFlag, createEnv } from "../admin/support";
import { E } from "../store/helpers";

let seq = 0;
function usage(
  environment: string,
  at: number,
  evaluations: UsageMessage["evaluations"],
  extra: Partial<UsageMessage> = {},
): UsageMessage {
  return {
    type: "usage",
    id: `test-${Date.now()}-${++seq}`,
    environment,
    at,
    evaluations,
    requests: [
      ["single", "2xx", 3],
      ["bulk", "4xx", 1],
    ],
    rateLimited: 1,
    stale: 2,
    cache: { memory: 1, cache: 0, miss: 1 },
    lost: { evaluations: 0, requests: 0 },
    ...extra,
  };
}

/** Runs the Worker's queue() handler on these bodies, as the queue would deliver them. */
async function deliver(queue: string, bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m-${++seq}-${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E as Env);
  return getQueueResult(batch, ctx);
}

/** Ids given to the last delivered batch, in order (`m-<n>-<index>`). */
function batchIds(result: { explicitAcks: string[]; retryMessages: { msgId: string }[] }): string[] {
  return [...result.explicitAcks, ...result.retryMessages.map((m) => m.msgId)].sort(
    (a, b) => Number(a.split("-")[2]) - Number(b.split("-")[2]),
  );
}

const rawStore = (env: string) => E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>;

describe("queue consumer → environment store", () => {
  it("counts usage into hourly buckets by variant, and per-minute request counters", async () => {
    const env = await createEnv("q-usage");
    const now = Date.now();
    const result = await deliver(INSIGHTS_QUEUE, [
      usage(env, now, [
        ["a", "on", "TARGETING_MATCH", "server", 5],
        ["a", "off", "DEFAULT", "client", 2],
        ["b", "x", "STATIC", "server", 1],
      ]),
      usage(env, now, [["a", "on", "TARGETING_MATCH", "client", 3]]),
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(2);

    const a = await api("GET", `/environments/${env}/flags/a/usage?hours=2`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ flag: "a", total: 10, variants: { on: 8, off: 2 } });
    expect(a.body.buckets).toHaveLength(2);
    expect(a.body.buckets[1]).toEqual({
      start: new Date(Math.floor(now / HOUR_MS) * HOUR_MS).toISOString(),
      total: 10,
      variants: { on: 8, off: 2 },
    });
    expect(a.body.buckets[0].total).toBe(0);
    expect(Date.parse(a.body.lastEvaluatedAt)).toBe(now);

    const m = await api("GET", `/environments/${env}/metrics?minutes=5`);
    expect(m.status).toBe(200);
    expect(m.body.buckets).toHaveLength(5);
    expect(m.body.buckets[4]).toMatchObject({
      requests: 8,
      status: { "2xx": 6, "4xx": 2, "5xx": 0 },
      rateLimited: 2,
      stale: 4,
      cache: { memory: 2, cache: 0, miss: 2 },
    });
    expect(m.body.publish).toMatchObject({ lagSeconds: 0 });
  });

  it("counts a redelivered message once (same id), in the same batch or a later one", async () => {
    const env = await createEnv("q-dup");
    const message = usage(env, Date.now(), [["a", "on", "STATIC", "server", 7]]);
    await deliver(INSIGHTS_QUEUE, [message, message]);
    const again = await deliver(INSIGHTS_QUEUE, [message], 2);
    expect(again.explicitAcks).toHaveLength(1);
    const a = await api("GET", `/environments/${env}/flags/a/usage?hours=1`);
    expect(a.body.total).toBe(7);
    const m = await api("GET", `/environments/${env}/metrics?minutes=1`);
    expect(m.body.buckets[0].requests).toBe(4);
  });

  it("retries an environment's messages with backoff when its store fails, and acks the others", async () => {
    const good = await createEnv("q-good");
    const bad = await createEnv("q-bad");
    await runInDurableObject(rawStore(bad), (store: EnvironmentStore) => {
      store.insights.recordUsage = () => {
        throw new Error("injected store failure");
      };
    });
    const result = await deliver(
      INSIGHTS_QUEUE,
      [
        usage(good, Date.now(), [["a", "on", "STATIC", "server", 1]]),
        usage(bad, Date.now(), [["a", "on", "STATIC", "server", 1]]),
      ],
      3,
    );
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual([batchIds(result)[1]]);
    // The delay grows with attempts (the test runtime does not report it back).
    expect([1, 2, 3, 9, 20].map(retryDelaySeconds)).toEqual([2, 4, 8, 300, 300]);
  });

  it("acks, never retries, a malformed message or one for a deleted environment", async () => {
    const live = await createEnv("q-bad-rows");
    const now = Date.now();
    const rejected = await deliver(INSIGHTS_QUEUE, [
      usage(live, now, [["not a key!", "on", "STATIC", "server", 1]]),
      usage(live, now, [["a", "on", "STATIC", "server", -1]]),
      usage(live, now, [["a", "on", "Static; DROP", "server", 1]]),
      usage(live, now, [["a", "on", "STATIC", "browser" as "client", 1]]),
      { ...usage(live, now, []), requests: [["single", "9xx", 1]] },
      { ...usage(live, now, []), environment: "../other" },
    ]);
    expect(rejected.explicitAcks).toHaveLength(6);
    expect((await api("GET", `/environments/${live}/flags/a/usage?hours=1`)).body.total).toBe(0);
    expect((await api("GET", `/environments/${live}/metrics?minutes=1`)).body.buckets[0].requests).toBe(0);

    const env = await createEnv("q-gone");
    expect((await api("DELETE", `/environments/${env}?confirm=${env}`)).status).toBe(200);
    const result = await deliver(INSIGHTS_QUEUE, [
      { type: "usage", id: "x" },
      { type: "nonsense" },
      usage(env, Date.now(), [["a", "on", "STATIC", "server", 1]]),
    ]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
  });

  it("counts dead-lettered summaries per minute, once each, where operators see them", async () => {
    const env = await createEnv("q-dlq");
    const dead = usage(env, Date.now(), [
      ["a", "on", "STATIC", "server", 4],
      ["b", "on", "STATIC", "server", 6],
    ]);
    await deliver(INSIGHTS_DLQ, [dead]);
    await deliver(INSIGHTS_DLQ, [dead], 2);
    const m = await api("GET", `/environments/${env}/metrics?minutes=1`);
    expect(m.body.buckets[0].deadLettered).toEqual({ messages: 1, evaluations: 10 });
    // Dead letters are not usage: nothing was counted for the flags.
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=1`)).body.total).toBe(0);
  });

  it("retention: hourly buckets past 30 days become daily ones; minute counters and message ids expire", async () => {
    const env = await createEnv("q-retain");
    const now = Date.now();
    const old = now - 31 * DAY_MS;
    await deliver(INSIGHTS_QUEUE, [
      usage(env, old, [["a", "on", "STATIC", "server", 2]]),
      usage(env, old + HOUR_MS, [
        ["a", "on", "STATIC", "server", 3],
        ["a", "off", "STATIC", "server", 1],
      ]),
      usage(env, now, [["a", "on", "STATIC", "server", 1]]),
    ]);
    const rows = await runInDurableObject(rawStore(env), (store: EnvironmentStore, state) => {
      store.insights.maintain(now, true);
      const q = (sql: string) => state.storage.sql.exec(sql).toArray();
      return {
        hourly: q(`SELECT hour, variant, count FROM usage_hourly ORDER BY hour, variant`),
        daily: q(`SELECT day, variant, count FROM usage_daily ORDER BY day, variant`),
        minutes: q(`SELECT minute FROM edge_minutes`).length,
        ledger: q(`SELECT ids FROM usage_ledger`)
          .map((r) => Object.values(JSON.parse(r.ids as string) as Record<string, unknown[]>).flat().length)
          .reduce((a, b) => a + b, 0),
      };
    });
    expect(rows.hourly).toEqual([{ hour: Math.floor(now / HOUR_MS) * HOUR_MS, variant: "on", count: 1 }]);
    const oldDay = Math.floor(old / DAY_MS) * DAY_MS;
    const nextDay = Math.floor((old + HOUR_MS) / DAY_MS) * DAY_MS;
    const expected =
      oldDay === nextDay
        ? [
            { day: oldDay, variant: "off", count: 1 },
            { day: oldDay, variant: "on", count: 5 },
          ]
        : [
            { day: oldDay, variant: "on", count: 2 },
            { day: nextDay, variant: "off", count: 1 },
            { day: nextDay, variant: "on", count: 3 },
          ];
    expect(rows.daily).toEqual(expected);
    expect(rows.minutes).toBe(1); // the 31-day-old minutes are gone
    expect(rows.ledger).toBe(3); // ids are kept 4 days after their minute was last written (now)
    await runInDurableObject(rawStore(env), (store: EnvironmentStore, state) => {
      store.insights.maintain(now + 5 * DAY_MS, true);
      expect(state.storage.sql.exec(`SELECT minute FROM usage_ledger`).toArray()).toEqual([]);
    });
  });

  it("usage and metrics of an unknown environment answer 404; bad query values 400", async () => {
    expect((await api("GET", `/environments/nope-${Date.now()}/metrics`)).status).toBe(404);
    const env = await createEnv("q-400");
    await api("PUT", `/environments/${env}/flags/a`, { body: boolFlag("a") });
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=721`)).status).toBe(400);
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=-1`)).status).toBe(400);
    expect((await api("GET", `/environments/${env}/metrics?minutes=abc`)).status).toBe(400);
    const empty = await api("GET", `/environments/${env}/flags/a/usage`);
    expect(empty.body).toMatchObject({ flag: "a", total: 0, variants: {}, lastEvaluatedAt: null });
    expect(empty.body.buckets).toHaveLength(24);
  });
});
