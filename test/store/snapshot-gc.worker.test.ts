import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { migrateStore, STORE_SCHEMA_VERSION } from "../../src/store/schema";
import { SNAPSHOT_GRACE_MS } from "../../src/store/publishing/snapshot-gc";
import type { Sql } from "../../src/store/sql";
import { eventually } from "../support/eventually";
import {
  E,
  boolFlag,
  instrumentKv,
  must,
  answered,
  newStore,
  query,
  rawStub,
  readPointer,
  type StoreStub,
} from "./helpers";

type Row = { version: number; superseded_at: number | null; retry_at: number };

const configure = (stub: StoreStub, settings: { graceMs?: number; retryMs?: number }) =>
  runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
    Object.assign(store.snapshots, settings);
  });

/** These tests read the alarm's exact time; alert evaluations (which a commit asks for) would share it. */
const withoutAlerts = (stub: StoreStub) =>
  runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
    must(
      store.alerts.setSettings({
        alerts: {
          "error-rate": { enabled: false },
          "stale-answers": { enabled: false },
          "publish-lag": { enabled: false },
          "flag-stale": { enabled: false },
        },
      }),
    );
  });

const alarmAt = (stub: StoreStub) =>
  runInDurableObject(rawStub(stub), (_s: EnvironmentStore, state) => state.storage.getAlarm());

/** The versions whose snapshot is in KV, ascending. */
async function snapshotVersions(name: string): Promise<number[]> {
  const listed = await E.FLAGS_KV.list({ prefix: `snap:${name}:` });
  return listed.keys.map((k) => Number(k.name.slice(`snap:${name}:`.length))).sort((a, b) => a - b);
}

/** Runs the alarm (if one is set; it may already have fired on its own) until `check` holds. */
const alarmUntil = (stub: StoreStub, check: () => Promise<boolean>) =>
  eventually(async () => {
    await runDurableObjectAlarm(rawStub(stub));
    return check();
  }, 5_000);

async function putFlags(stub: StoreStub, n: number): Promise<number> {
  let version = 0;
  for (let i = 0; i < n; i++) {
    const put = must(await stub.putFlag(boolFlag(`f${i}`), "t"));
    version = put.version;
  }
  return version;
}

describe("superseded snapshot deletion", () => {
  it("keeps superseded snapshots for the grace period and arms the alarm for its end", async () => {
    const { name, stub } = await newStore("gc-grace");
    await withoutAlerts(stub);
    const last = await putFlags(stub, 3);
    await runDurableObjectAlarm(rawStub(stub)); // the post-commit backstop
    expect(await snapshotVersions(name)).toEqual([1, 2, 3, 4]);
    const rows = await query<Row>(stub, `SELECT version, superseded_at, retry_at FROM snapshots ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4]);
    expect(rows.filter((r) => r.superseded_at === null).map((r) => r.version)).toEqual([last]);
    const earliest = Math.min(...rows.filter((r) => r.superseded_at !== null).map((r) => r.superseded_at!));
    expect(await alarmAt(stub)).toBe(earliest + SNAPSHOT_GRACE_MS);

    // Once the grace period is over (shortened here instead of waiting 10 minutes) they go.
    await configure(stub, { graceMs: 0 });
    await alarmUntil(stub, async () => (await snapshotVersions(name)).length === 1);
    expect(await snapshotVersions(name)).toEqual([last]);
  });

  it("after the grace period only the current snapshot and the pointer remain", async () => {
    const { name, stub } = await newStore("gc-delete");
    await withoutAlerts(stub);
    await configure(stub, { graceMs: 0 });
    const last = await putFlags(stub, 4);
    await alarmUntil(stub, async () => (await snapshotVersions(name)).length === 1);
    expect(await snapshotVersions(name)).toEqual([last]);
    expect(await readPointer(name)).toMatchObject({ version: last });
    expect(await query<Row>(stub, `SELECT version, superseded_at, retry_at FROM snapshots`)).toEqual([
      { version: last, superseded_at: null, retry_at: 0 },
    ]);
    // Nothing left to do: no alarm stays armed.
    await runDurableObjectAlarm(rawStub(stub));
    expect(await alarmAt(stub)).toBeNull();
  });

  it("deletes snapshots whose pointer write was coalesced away", async () => {
    const { name, stub } = await newStore("gc-coalesce", 1000);
    await configure(stub, { graceMs: 0 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stub.putFlag(boolFlag(`f${i}`), "t")));
    const last = Math.max(...results.map((r) => (r.ok ? r.value.version : 0)));
    await alarmUntil(
      stub,
      async () => (await readPointer(name))?.version === last && (await snapshotVersions(name)).length === 1,
    );
    expect(await snapshotVersions(name)).toEqual([last]);
  });

  it("a failed KV delete is retried on a later alarm and does not hold up publishing", async () => {
    const { name, stub } = await newStore("gc-fail");
    await configure(stub, { graceMs: 0, retryMs: 300 });
    const control = await instrumentKv(stub);
    control.failDelete = true;
    // Before the writes: an alarm may fire by itself as soon as they supersede a snapshot.
    const before = Date.now();
    const first = await putFlags(stub, 2);
    await runDurableObjectAlarm(rawStub(stub));
    expect(await snapshotVersions(name)).toEqual([1, 2, 3]);
    const deferred = await query<Row>(
      stub,
      `SELECT version, superseded_at, retry_at FROM snapshots WHERE superseded_at IS NOT NULL`,
    );
    expect(deferred.map((r) => r.version)).toEqual([1, 2]);
    for (const row of deferred) expect(row.retry_at).toBeGreaterThanOrEqual(before + 300);
    // An alarm is armed for the retry. It may be a little earlier than the retry time (an alarm that
    // fired by itself can run beside the forced one): an early run finds nothing due and re-arms.
    const armed = await alarmAt(stub);
    expect(armed).not.toBeNull();
    expect(armed!).toBeLessThanOrEqual(Math.min(...deferred.map((r) => r.retry_at)));

    // Publishing goes on while deletes fail.
    const put = must(await stub.putFlag(boolFlag("more"), "t"));
    expect(put.version).toBe(first + 1);
    expect(await readPointer(name)).toMatchObject({ version: put.version });

    control.failDelete = false;
    await alarmUntil(stub, async () => (await snapshotVersions(name)).length === 1);
    expect(await snapshotVersions(name)).toEqual([put.version]);
    expect(control.writes).toContain(`delete snap:${name}:1`);
  });

  it("destroy schedules deletion of every remaining snapshot", async () => {
    const { name, stub } = await newStore("gc-destroy");
    await configure(stub, { graceMs: 0 });
    await putFlags(stub, 2);
    expect(await stub.destroy("t")).toEqual(answered({ deleted: true }));
    await alarmUntil(stub, async () => (await snapshotVersions(name)).length === 0);
    expect(await readPointer(name)).toMatchObject({ deleted: true });
    expect(await query<Row>(stub, `SELECT version FROM snapshots`)).toEqual([]);
  });

  it("migrating a schema-1 store queues the snapshots it left behind", async () => {
    const { name, stub } = await newStore("gc-migrate");
    const last = await putFlags(stub, 3);
    await runInDurableObject(rawStub(stub), (_store: EnvironmentStore, state) => {
      const sql = state.storage.sql as unknown as Sql;
      // What a store written by the schema-1 code looks like.
      state.storage.transactionSync(() => {
        sql.exec(`DROP TABLE snapshots`).toArray();
        sql.exec(`UPDATE schema_version SET version = 1`).toArray();
      });
      state.storage.transactionSync(() => migrateStore(sql));
    });
    expect(await query<{ version: number }>(stub, `SELECT version FROM schema_version`)).toEqual([
      { version: STORE_SCHEMA_VERSION },
    ]);
    const rows = await query<Row>(stub, `SELECT version, superseded_at, retry_at FROM snapshots ORDER BY version`);
    expect(rows.map((r) => [r.version, r.superseded_at === null])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);

    await configure(stub, { graceMs: 0 });
    await alarmUntil(stub, async () => (await snapshotVersions(name)).length === 1);
    expect(await snapshotVersions(name)).toEqual([last]);
  });
});
