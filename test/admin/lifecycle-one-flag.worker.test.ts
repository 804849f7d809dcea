import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import type { InsightsStoreApi } from "../../src/core/wire/insights-rpc";
import { E } from "../store/helpers";
import { api, boolFlag, createEnv } from "./support";
import { evaluated } from "./usage";

const SECOND_IN_DAYS = 1 / 86_400;

const rawStub = (env: string) => E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>;

/** Stops the environment's insights clock at `at`, so the list and each one-flag read judge at one instant. */
async function clockAt(env: string, at: number) {
  await runInDurableObject(rawStub(env), (store: EnvironmentStore) => {
    store.insights.now = () => at;
  });
}

/** The lifecycle fields of a flag answer. */
const lifecycleOf = (flag: Record<string, unknown>) => ({
  kind: flag.kind,
  status: flag.status,
  stale: flag.stale,
  lastEvaluatedAt: flag.lastEvaluatedAt,
});

/**
 * Counts the SQL work of the environment's Durable Object from now on: statements run and rows
 * they read (`cursor.rowsRead`), by wrapping its `storage.sql.exec` (the object runs in this
 * isolate, so it can fill an array of the test's). Each call answers the work since the last.
 */
async function sqlMeter(env: string): Promise<() => { statements: number; rowsRead: number }> {
  const cursors: { rowsRead: number }[] = [];
  await runInDurableObject(rawStub(env), (_store: EnvironmentStore, state) => {
    const sql = state.storage.sql;
    const real = sql.exec.bind(sql);
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      const cursor = real(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
  });
  return () => {
    const seen = { statements: cursors.length, rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0) };
    cursors.length = 0;
    return seen;
  };
}

describe("GET …/flags/{key} computes the lifecycle of that flag only", () => {
  /** Asserts each flag's GET answers the lifecycle fields of its list entry; answers the list's status and stale by key. */
  async function oneMatchesList(env: string): Promise<Record<string, [unknown, unknown]>> {
    const list = (await api("GET", `/environments/${env}/flags`)).body.flags as Record<string, unknown>[];
    expect(list.length).toBeGreaterThan(0);
    for (const entry of list) {
      const one = await api("GET", `/environments/${env}/flags/${entry.key}`);
      expect(one.status).toBe(200);
      expect(lifecycleOf(one.body), String(entry.key)).toEqual(lifecycleOf(entry));
    }
    return Object.fromEntries(list.map((f) => [f.key, [f.status, f.stale]]));
  }

  it("answers the same lifecycle fields as the list's entry: inactive, launched, active, stale or not by kind", async () => {
    const env = await createEnv("lc-one");
    const start = Date.now();
    // Window 2 s; release lifetime 5 s, operational 1 s; kill-switch permanent. The clock then moves 10 s on.
    expect(
      (
        await api("PUT", `/environments/${env}/lifecycle`, {
          body: {
            statusWindowDays: 2 * SECOND_IN_DAYS,
            lifetimeDays: { release: 5 * SECOND_IN_DAYS, operational: SECOND_IN_DAYS },
          },
        })
      ).status,
    ).toBe(200);
    for (const [key, kind] of [
      ["idle", "release"],
      ["launched", "release"],
      ["active", "experiment"],
      ["ks", "kill-switch"],
      ["ops", "operational"],
      ["perm", "permission"],
    ] as const) {
      expect((await api("PUT", `/environments/${env}/flags/${key}`, { body: boolFlag(key, { kind }) })).status).toBe(
        201,
      );
    }
    const at = start + 10_000;
    await evaluated(env, "launched", "on", at - 500);
    await evaluated(env, "active", "on", at - 600);
    await evaluated(env, "active", "off", at - 400);
    await evaluated(env, "ops", "on", at - 300);
    await evaluated(env, "perm", "off", at - 300);
    // Usage of a flag that does not exist (deleted, or never made) decorates nothing.
    await evaluated(env, "gone", "on", at - 300);
    await clockAt(env, at);
    expect(await oneMatchesList(env)).toEqual({
      idle: ["inactive", true],
      launched: ["launched", true],
      active: ["active", false],
      ks: ["inactive", false],
      ops: ["launched", true],
      perm: ["launched", false],
    });
    expect((await api("GET", `/environments/${env}/flags/gone`)).status).toBe(404);
  });

  it("answers the same lifecycle fields as the list's entry: new, changed within the window, deleted and created again", async () => {
    const env = await createEnv("lc-one-new");
    for (const key of ["brand", "fresh", "reborn"])
      expect((await api("PUT", `/environments/${env}/flags/${key}`, { body: boolFlag(key) })).status).toBe(201);
    await evaluated(env, "reborn", "on", Date.now());
    expect((await api("DELETE", `/environments/${env}/flags/reborn`)).status).toBe(200);
    expect(
      (await api("PUT", `/environments/${env}/flags/reborn`, { body: boolFlag("reborn", { kind: "experiment" }) }))
        .status,
    ).toBe(201);
    // Evaluated with one variant only, but changed within the window: active, not launched.
    await evaluated(env, "fresh", "on", Date.now());
    expect(
      (await api("PUT", `/environments/${env}/flags/fresh`, { body: boolFlag("fresh", { defaultVariant: "on" }) }))
        .status,
    ).toBe(200);
    expect(await oneMatchesList(env)).toEqual({
      brand: ["new", false],
      fresh: ["active", false],
      reborn: ["active", false],
    });
    const reborn = await api("GET", `/environments/${env}/flags/reborn`);
    expect(reborn.body).toMatchObject({ kind: "experiment", lastEvaluatedAt: expect.any(String) });
  });

  it("reads the same number of SQL rows with 3 flags or 60", async () => {
    const work = async (count: number) => {
      const env = await createEnv("lc-rows");
      const flags = Array.from({ length: count }, (_, i) => boolFlag(`f${i}`));
      expect(
        (
          await api("PUT", `/environments/${env}/flagd`, {
            body: {
              flags: Object.fromEntries(
                flags.map(({ key }) => [
                  key,
                  { state: "ENABLED", variants: { on: true, off: false }, defaultVariant: "off" },
                ]),
              ),
            },
          })
        ).status,
      ).toBe(200);
      for (let i = 0; i < count; i++) await evaluated(env, `f${i}`, "on", Date.now());
      const meter = await sqlMeter(env);
      // The fewest of three reads: work the object does beside the GET (an alarm) only ever adds.
      let fewest = { statements: Infinity, rowsRead: Infinity };
      for (let i = 0; i < 3; i++) {
        meter();
        expect((await api("GET", `/environments/${env}/flags/f1`)).body).toMatchObject({ key: "f1", status: "active" });
        const seen = meter();
        if (seen.rowsRead < fewest.rowsRead) fewest = seen;
      }
      return fewest;
    };
    const small = await work(3);
    const large = await work(60);
    expect(small.statements).toBeGreaterThan(0);
    expect(large).toEqual(small);
  });

  it("the store's one-flag call: not_found for a flag that does not exist (usage alone makes none), no_environment after a delete", async () => {
    const env = await createEnv("lc-one-rpc");
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f", { kind: "operational" }) });
    await evaluated(env, "ghost", "on", Date.now());
    const store = E.ENV_STORE.getByName(env) as unknown as InsightsStoreApi;
    expect(await store.flagLifecycle("f")).toEqual({
      ok: true,
      value: { kind: "operational", status: "new", stale: false, lastEvaluatedAt: null },
    });
    expect(await store.flagLifecycle("ghost")).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect((await api("DELETE", `/environments/${env}?confirm=${env}`)).status).toBe(200);
    expect(await store.flagLifecycle("f")).toMatchObject({ ok: false, error: { code: "no_environment" } });
  });
});
