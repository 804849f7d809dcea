/**
 * Alerts in the environment's Durable Object, with a pinned insights clock and shortened
 * thresholds: the alarm evaluates, each transition puts exactly one `alert.fired` or
 * `alert.resolved` event per webhook in the outbox (then on the queue), a restarted object reads
 * the states back and does not re-fire, a firing 5xx rate pauses running plans, usage data that
 * stops puts a firing rate alert in `no-data` instead of resolving it, and per-flag staleness
 * fires and resolves per key.
 */
import { createMessageBatch, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { INSIGHTS_QUEUE, type UsageMessage, type WebhookMessage } from "../../src/core/wire/queue-messages";
import { EnvironmentStore } from "../../src/store/environment/environment-store";
import { outbox } from "../../src/store/webhooks/webhooks-repo";
import { api, boolFlag, createEnv } from "../admin/support";
import { E } from "./helpers";

const MIN = 60_000;
const SECOND_IN_DAYS = 1 / 86_400;
const rawStore = (env: string) => E.ENV_STORE.getByName(env) as unknown as DurableObjectStub<EnvironmentStore>;
let seq = 0;

/** Pins the store's insights (and so alerts) clock to `clock.t`, and captures what the outbox sends. */
async function instrument(env: string, t: number) {
  const clock = { t };
  const sent: { type: string; data: Record<string, unknown> }[] = [];
  await runInDurableObject(rawStore(env), (s: EnvironmentStore) => {
    s.insights.now = () => clock.t;
    (s.webhooks as any).host.queue = () => ({
      sendBatch: async (batch: { body: WebhookMessage }[]) => {
        for (const m of batch) sent.push(JSON.parse(m.body.body));
      },
    });
  });
  return { clock, sent };
}

async function traffic(env: string, at: number, ok: number, errors: number) {
  const body: UsageMessage = {
    type: "usage",
    id: `al-${Date.now()}-${++seq}`,
    environment: env,
    at,
    evaluations: [],
    requests: [
      ["single", "2xx", ok],
      ["single", "5xx", errors],
    ],
    rateLimited: 0,
    stale: 0,
    cache: { memory: 0, cache: 0, miss: 0 },
    lost: { evaluations: 0, requests: 0 },
  };
  const batch = createMessageBatch(INSIGHTS_QUEUE, [{ id: body.id, timestamp: new Date(), attempts: 1, body }]);
  await worker.queue(batch as MessageBatch<unknown>, E as Env);
}

const alarm = (env: string) => runInDurableObject(rawStore(env), (s: EnvironmentStore) => s.alarm());
const pending = (env: string) =>
  runInDurableObject(rawStore(env), (s: EnvironmentStore) => outbox((s as any).sql, 100));
const types = (sent: { type: string; data: Record<string, unknown> }[]) => sent.map((e) => `${e.type} ${e.data.id}`);

/** Waits (bounded) until the captured events are `expected`; an alarm that fires by itself may have sent them first. */
async function sentExactly(sent: { type: string; data: Record<string, unknown> }[], expected: string[]) {
  await vi.waitFor(() => expect(types(sent)).toEqual(expected), { timeout: 10_000, interval: 50 });
}

/** The same, in any order (one evaluation's events leave the outbox in no promised order). */
async function sentAll(sent: { type: string; data: Record<string, unknown> }[], expected: string[]) {
  await vi.waitFor(() => expect([...types(sent)].sort()).toEqual([...expected].sort()), {
    timeout: 10_000,
    interval: 50,
  });
}
const event = (sent: { type: string; data: Record<string, unknown> }[], type: string, id: string) =>
  sent.find((e) => e.type === type && e.data.id === id)!;

describe("alerts evaluated by the environment's alarm", () => {
  it("one alert.fired and one alert.resolved per transition; quiet while firing; a restart does not re-fire", async () => {
    const env = await createEnv("al-rate");
    const hook = await api("POST", `/environments/${env}/webhooks`, {
      body: { url: "https://hooks.example/in", events: ["alert.*"] },
    });
    expect(hook.status).toBe(201);
    const T = Date.now();
    const { clock, sent } = await instrument(env, T);
    const settings = await api("PUT", `/environments/${env}/alerts/settings`, {
      body: { windowMinutes: 2, minRequests: 10, evaluateEverySeconds: 1 },
    });
    expect(settings.status).toBe(200);

    // 5 of 20 requests failed: 25% against a 1% threshold.
    await traffic(env, T, 15, 5);
    clock.t = T + 1000;
    await alarm(env);
    await sentExactly(sent, ["alert.fired error-rate"]);
    expect(sent[0]!.data).toMatchObject({
      environment: env,
      kind: "error-rate",
      value: 25,
      threshold: 1,
      unit: "percent",
      windowSeconds: 120,
      requests: 20,
    });
    // The stored alarm may have run by itself at T (the settings made an evaluation due at once) before ours at T + 1 s.
    const firedAt = sent[0]!.data.since as string;
    expect([T, T + 1000].map((t) => new Date(t).toISOString())).toContain(firedAt);

    // Still firing: later evaluations say nothing.
    clock.t = T + 2000;
    await traffic(env, T + 2000, 10, 5);
    await alarm(env);
    clock.t = T + 3000;
    await alarm(env);
    expect(types(sent)).toEqual(["alert.fired error-rate"]);

    // A fresh instance over the same storage (what an evicted or restarted object is) carries on.
    const afterRestart = await runInDurableObject(rawStore(env), (_s: EnvironmentStore, state) => {
      const fresh = new EnvironmentStore(state, E as Env);
      fresh.insights.now = () => T + 4000;
      return fresh.alerts.evaluate();
    });
    expect(afterRestart).toEqual([]);
    expect(await pending(env)).toEqual([]);

    const listed = await api("GET", `/environments/${env}/alerts`);
    expect(listed.status).toBe(200);
    expect(listed.body.alerts.find((a: any) => a.id === "error-rate")).toMatchObject({
      firing: true,
      since: firedAt,
      value: 28.571,
      requests: 35,
    });

    // Traffic keeps arriving but the window falls under the floor: the alert resolves, once.
    clock.t = T + 3 * MIN;
    await traffic(env, T + 3 * MIN, 3, 0);
    await alarm(env);
    await sentExactly(sent, ["alert.fired error-rate", "alert.resolved error-rate"]);
    expect(sent[1]!.data).toMatchObject({
      id: "error-rate",
      value: null,
      requests: 3,
      since: firedAt,
      resolvedAt: new Date(T + 3 * MIN).toISOString(),
    });
    clock.t = T + 6 * MIN;
    await alarm(env);
    expect(types(sent)).toHaveLength(2);

    // Idle, nothing firing, no flags: nothing left to evaluate, so no alarm is kept for alerts.
    const quiet = await api("GET", `/environments/${env}/alerts`);
    expect(quiet.body.nextEvaluationAt).toBeNull();
    expect(quiet.body.alerts.every((a: any) => !a.firing)).toBe(true);
  });

  it("a firing error-rate whose usage data stops is not resolved: no-data, visible; data back, judged on real figures", async () => {
    const env = await createEnv("al-nodata");
    await api("POST", `/environments/${env}/webhooks`, {
      body: { url: "https://hooks.example/in", events: ["alert.*"] },
    });
    const T = Date.now();
    const { clock, sent } = await instrument(env, T);
    await api("PUT", `/environments/${env}/alerts/settings`, {
      body: { windowMinutes: 2, minRequests: 10, evaluateEverySeconds: 1, pausePlansOnErrorRate: false },
    });
    await traffic(env, T, 15, 5);
    clock.t = T + 1000;
    await alarm(env);
    await sentExactly(sent, ["alert.fired error-rate"]);
    const firedAt = sent[0]!.data.since as string;

    // The usage queue stops: no summary for 3 minutes, the window is empty. Not "0 % errors".
    clock.t = T + 3 * MIN;
    await alarm(env);
    await sentAll(sent, ["alert.fired error-rate", "alert.no_data error-rate", "alert.no_data stale-answers"]);
    expect(event(sent, "alert.no_data", "error-rate").data).toMatchObject({
      id: "error-rate",
      firing: true,
      since: firedAt,
      noDataSince: new Date(T + 3 * MIN).toISOString(),
      lastDataAt: new Date(T).toISOString(),
    });
    const silent = await api("GET", `/environments/${env}/alerts`);
    expect(silent.body.lastDataAt).toBe(new Date(T).toISOString());
    expect(silent.body.alerts.find((a: any) => a.id === "error-rate")).toMatchObject({
      state: "no-data",
      firing: true,
      since: firedAt,
      noDataSince: new Date(T + 3 * MIN).toISOString(),
    });
    // Still nothing: quiet, and still not resolved.
    clock.t = T + 4 * MIN;
    await alarm(env);
    expect(types(sent)).toHaveLength(3);

    // Data comes back, still failing: data_resumed, still firing since it fired, no second alert.fired.
    clock.t = T + 5 * MIN;
    await traffic(env, T + 5 * MIN, 10, 10);
    clock.t = T + 5 * MIN + 1000;
    await alarm(env);
    await sentAll(sent, [
      "alert.fired error-rate",
      "alert.no_data error-rate",
      "alert.no_data stale-answers",
      "alert.data_resumed error-rate",
      "alert.data_resumed stale-answers",
    ]);
    const back = (await api("GET", `/environments/${env}/alerts`)).body.alerts.find((a: any) => a.id === "error-rate");
    expect(back).toMatchObject({ state: "firing", firing: true, since: firedAt, value: 50 });
    expect(back.noDataSince).toBeUndefined();

    // Healthy traffic: it resolves, once, on the real figures.
    clock.t = T + 8 * MIN;
    await traffic(env, T + 8 * MIN, 100, 0);
    clock.t = T + 8 * MIN + 1000;
    await alarm(env);
    await vi.waitFor(() => expect(types(sent).slice(5)).toEqual(["alert.resolved error-rate"]), {
      timeout: 10_000,
      interval: 50,
    });
    expect(event(sent, "alert.resolved", "error-rate").data).toMatchObject({ value: 0, since: firedAt });
  });

  it("a firing 5xx-rate alert pauses running release plans", async () => {
    const env = await createEnv("al-plans");
    await api("PUT", `/environments/${env}/flags/f`, { body: boolFlag("f") });
    const plan = await api("PUT", `/environments/${env}/flags/f/plan`, {
      body: {
        variant: "on",
        steps: [
          { percent: 10, waitSeconds: 3600 },
          { percent: 100, waitSeconds: 0 },
        ],
      },
    });
    expect(plan.body.status).toBe("running");
    const T = Date.now();
    const { clock } = await instrument(env, T);
    await api("PUT", `/environments/${env}/alerts/settings`, {
      body: { windowMinutes: 2, minRequests: 10, evaluateEverySeconds: 1 },
    });
    await traffic(env, T, 0, 50);
    clock.t = T + 1000;
    await alarm(env);
    await vi.waitFor(
      async () => expect((await api("GET", `/environments/${env}/flags/f/plan`)).body.status).toBe("paused"),
      { timeout: 10_000, interval: 50 },
    );
    const history = (await api("GET", `/environments/${env}/history`)).body.entries;
    expect(history.find((e: any) => e.operation === "plan.pause")).toMatchObject({
      actor: "alert:error-rate",
      target: "f",
      diff: { reason: expect.stringContaining("error-rate") },
    });
  });

  it("flag-stale fires per flag key when it turns stale and resolves when the flag is deleted", async () => {
    const env = await createEnv("al-stale");
    await api("POST", `/environments/${env}/webhooks`, {
      body: { url: "https://hooks.example/in", events: ["alert.fired", "alert.resolved"] },
    });
    await api("PUT", `/environments/${env}/flags/old`, { body: boolFlag("old") });
    await api("PUT", `/environments/${env}/flags/ks`, { body: boolFlag("ks", { kind: "kill-switch" }) });
    await api("PUT", `/environments/${env}/lifecycle`, {
      body: { statusWindowDays: 2 * SECOND_IN_DAYS, lifetimeDays: { release: 5 * SECOND_IN_DAYS } },
    });
    const T = Date.now();
    const { clock, sent } = await instrument(env, T);
    await api("PUT", `/environments/${env}/alerts/settings`, { body: { evaluateEverySeconds: 1 } });
    await alarm(env);
    // Young: not stale yet, and the next evaluation is when "old" can turn stale (the kill-switch never does).
    expect(types(sent)).toEqual([]);
    const next = Date.parse((await api("GET", `/environments/${env}/alerts`)).body.nextEvaluationAt);
    expect(next).toBeGreaterThan(T);
    expect(next).toBeLessThanOrEqual(T + 6000);

    clock.t = T + 60_000;
    await alarm(env);
    await sentExactly(sent, ["alert.fired flag-stale:old"]);
    expect(sent[0]!.data).toMatchObject({ kind: "flag-stale", flag: "old", unit: "boolean" });
    clock.t = T + 61_000;
    await alarm(env);
    expect(types(sent)).toEqual(["alert.fired flag-stale:old"]);

    expect((await api("DELETE", `/environments/${env}/flags/old`)).status).toBe(200);
    clock.t = T + 62_000;
    await alarm(env);
    await sentExactly(sent, ["alert.fired flag-stale:old", "alert.resolved flag-stale:old"]);
  });
});
