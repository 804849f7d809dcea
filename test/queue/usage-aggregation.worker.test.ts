import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { INSIGHTS_QUEUE, type UsageMessage } from "../../src/core/wire/queue-messages";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { SEEN_MAX_ROWS } from "../../src/store/insights/usage-repo";
import { api, createEnv } from "../admin/support";
import { E } from "../store/helpers";
import { eventually } from "../support/eventually";

let seq = 0;
const rawStore = (env: string) => E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>;

function summary(
  environment: string,
  isolate: string,
  n: number,
  at: number,
  evaluations: UsageMessage["evaluations"],
): UsageMessage {
  return {
    type: "usage",
    id: `${isolate}-${n}`,
    environment,
    at,
    evaluations,
    requests: [["bulk", "2xx", 1]],
    rateLimited: 0,
    stale: 0,
    cache: { memory: 1, cache: 0, miss: 0 },
    lost: { evaluations: 0, requests: 0 },
  };
}

async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    INSIGHTS_QUEUE,
    bodies.map((body, i) => ({ id: `a-${++seq}-${i}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E as Env);
  return getQueueResult(batch, ctx);
}

/** Runs `during` with every SQL statement of the object counted by the rows it wrote. */
async function countRowsWritten(env: string, during: () => Promise<void>): Promise<number> {
  await runInDurableObject(rawStore(env), (_store: EnvironmentStore, state) => {
    const sql = state.storage.sql as unknown as {
      exec: (...a: unknown[]) => unknown;
      written?: number;
      original?: unknown;
    };
    const original = sql.exec.bind(sql) as (...a: unknown[]) => { toArray(): unknown[]; rowsWritten: number };
    sql.written = 0;
    sql.original = sql.exec;
    sql.exec = (...args: unknown[]) => {
      const cursor = original(...args);
      return {
        toArray: () => {
          const rows = cursor.toArray();
          sql.written! += cursor.rowsWritten;
          return rows;
        },
      };
    };
  });
  await during();
  return runInDurableObject(rawStore(env), (_store: EnvironmentStore, state) => {
    const sql = state.storage.sql as unknown as { exec: unknown; written: number; original: unknown };
    sql.exec = sql.original;
    return sql.written;
  });
}

/** Holds usage in memory until `flush()` (the interval is a minute deployed; here the test decides). */
async function hold(env: string): Promise<void> {
  await runInDurableObject(rawStore(env), (store: EnvironmentStore) => {
    store.insights.usage.flushMs = 600_000;
  });
}
async function flush(env: string): Promise<void> {
  await runInDurableObject(rawStore(env), (store: EnvironmentStore) => {
    store.insights.usage.flush();
    store.insights.usage.flushMs = 100;
  });
}

/** Messages merged and waiting for the flush. */
const pending = (env: string) =>
  runInDurableObject(
    rawStore(env),
    (store: EnvironmentStore) => (store.insights.usage as unknown as { pending: Set<string> }).pending.size,
  );

const FLAGS = ["f0", "f1", "f2", "f3", "f4"];

describe("usage merged before it is written", () => {
  it("counts exactly, and writes rows bounded by flags × variants × reasons for 300 isolates", async () => {
    const env = await createEnv("agg-many");
    const at = Date.now();
    const expected = new Map<string, number>();
    const messages: UsageMessage[] = [];
    for (let i = 0; i < 300; i++) {
      for (let n = 1; n <= 3; n++) {
        const evaluations: UsageMessage["evaluations"] = FLAGS.flatMap((flag, f) =>
          (["on", "off"] as const).map((variant, v): UsageMessage["evaluations"][number] => {
            const count = 1 + ((i * 7 + n * 3 + f + v) % 11);
            expected.set(`${flag}/${variant}`, (expected.get(`${flag}/${variant}`) ?? 0) + count);
            return [flag, variant, "TARGETING_MATCH", i % 2 ? "client" : "server", count];
          }),
        );
        messages.push(summary(env, `iso${i}`, n, at, evaluations));
      }
    }
    await hold(env);
    let results: Awaited<ReturnType<typeof deliver>>[] = [];
    const written = await countRowsWritten(env, async () => {
      const batches: Promise<Awaited<ReturnType<typeof deliver>>>[] = [];
      for (let b = 0; b < messages.length; b += 100) batches.push(deliver(messages.slice(b, b + 100)));
      // Every consumer call waits for the flush that writes its messages.
      await eventually(async () => (await pending(env)) === messages.length, 30_000);
      await flush(env);
      results = await Promise.all(batches);
    });
    for (const r of results) expect(r.retryMessages).toEqual([]);
    expect(results.reduce((s, r) => s + r.explicitAcks.length, 0)).toBe(messages.length);
    // 5 flags × 2 variants × 1 reason hourly rows, 5 usage_flags rows, one minute row, one ledger
    // row (each upsert of an indexed table counts its index too): 900 summaries applied one by one
    // wrote thousands.
    expect(written).toBeLessThanOrEqual(2 * (FLAGS.length * 2 + FLAGS.length + 2) + 4);
    for (const flag of FLAGS) {
      const u = await api("GET", `/environments/${env}/flags/${flag}/usage?hours=1`);
      expect(u.body.variants).toEqual({ on: expected.get(`${flag}/on`), off: expected.get(`${flag}/off`) });
    }
    const m = await api("GET", `/environments/${env}/metrics?minutes=1`);
    expect(m.body.buckets[0].requests).toBe(messages.length);
  });

  it("a redelivered batch counts once, regrouped, in the same flush or a later one", async () => {
    const env = await createEnv("agg-redeliver");
    const at = Date.now();
    const m = (n: number) => summary(env, "isoA", n, at, [["a", "on", "STATIC", "server", n]]);
    await hold(env);
    const first = deliver([m(1), m(2)]);
    const again = deliver([m(2), m(3)], 2);
    await eventually(async () => (await pending(env)) === 3, 30_000);
    await flush(env);
    await Promise.all([first, again]);
    // After the flush: the ledger, not memory, knows them.
    const late = await deliver([m(1), m(3), m(4)], 3);
    expect(late.explicitAcks).toHaveLength(3);
    const a = await api("GET", `/environments/${env}/flags/a/usage?hours=1`);
    expect(a.body.total).toBe(1 + 2 + 3 + 4);
  });

  it("a redelivery counts once even after more than 200,000 other ids were seen", async () => {
    const env = await createEnv("agg-window");
    const at = Date.now();
    const message = summary(env, "isoOld", 1, at, [["a", "on", "STATIC", "server", 5]]);
    await deliver([message]);
    await runInDurableObject(rawStore(env), (store: EnvironmentStore, state) => {
      // The old dedupe window: 200,000 ids newer than ours push it out of usage_seen.
      state.storage.sql
        .exec(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i <= ?)
        INSERT INTO usage_seen (id, at) SELECT 'other-' || i, ? FROM n`,
          SEEN_MAX_ROWS,
          at + 1000,
        )
        .toArray();
      store.insights.maintain(at + 2000, true);
    });
    const again = await deliver([message], 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=1`)).body.total).toBe(5);
  });

  it("a failed write counts nothing and fails every waiting call, so the queue retries them all", async () => {
    const env = await createEnv("agg-fail");
    const at = Date.now();
    const m = (n: number) => summary(env, "isoF", n, at, [["a", "on", "STATIC", "server", 10]]);
    await runInDurableObject(rawStore(env), (_store: EnvironmentStore, state) => {
      const sql = state.storage.sql as unknown as { exec: (q: string, ...a: unknown[]) => unknown; original?: unknown };
      const original = sql.exec.bind(sql);
      sql.original = sql.exec;
      sql.exec = (q: string, ...a: unknown[]) => {
        if (q.includes("INSERT INTO usage_ledger")) throw new Error("injected write failure");
        return original(q, ...a);
      };
    });
    const failed = await deliver([m(1), m(2)]);
    expect(failed.retryMessages).toHaveLength(2);
    await runInDurableObject(rawStore(env), (_store: EnvironmentStore, state) => {
      const sql = state.storage.sql as unknown as { exec: unknown; original: unknown };
      sql.exec = sql.original;
    });
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=1`)).body.total).toBe(0);
    const retried = await deliver([m(1), m(2)], 2);
    expect(retried.explicitAcks).toHaveLength(2);
    expect((await api("GET", `/environments/${env}/flags/a/usage?hours=1`)).body.total).toBe(20);
  });
});
