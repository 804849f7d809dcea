/**
 * unleash-client (Node server SDK) bootstrapped from in-memory data: refreshInterval 0 (no
 * polling, no fetch), metrics disabled, in-memory backup storage.
 * @module
 */
import { once } from "node:events";
import { InMemStorageProvider, Unleash, type Context } from "unleash-client";
import { consume, type LogicalCondition, type LogicalFlag, type Workload } from "../workloads";
import type { BenchEngine } from "./engine";

type Constraint = {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  caseInsensitive: boolean;
  inverted: boolean;
};

function constraint(c: Exclude<LogicalCondition, { segment: string }>): Constraint {
  const base = { contextName: c.attr, caseInsensitive: false, inverted: false };
  switch (c.op) {
    case "endsWith":
      return { ...base, operator: "STR_ENDS_WITH", values: c.values };
    case "in":
      return { ...base, operator: "IN", values: c.values };
    case "equals":
      return { ...base, operator: "IN", values: c.values };
    case "gt":
      return { ...base, operator: "NUM_GT", value: String(c.value) };
  }
}

function payload(v: unknown) {
  if (typeof v === "string") return { type: "string", value: v };
  if (typeof v === "number") return { type: "number", value: String(v) };
  return { type: "json", value: JSON.stringify(v) };
}

function strategy(
  flagKey: string,
  when: LogicalCondition | undefined,
  segmentIds: Map<string, number>,
  variants?: Array<[string, unknown, number]>,
  rollout = 100,
) {
  return {
    name: "flexibleRollout",
    parameters: { rollout: String(rollout), stickiness: "default", groupId: flagKey },
    constraints: when && !("segment" in when) ? [constraint(when)] : [],
    segments: when && "segment" in when ? [segmentIds.get(when.segment)!] : [],
    variants:
      variants?.map(([name, value, weight]) => ({
        name,
        weight,
        weightType: "variable",
        stickiness: "default",
        payload: payload(value),
      })) ?? [],
  };
}

/** Boolean flags → isEnabled (rules serve "on"); other types → strategy variants with payloads. */
function feature(f: LogicalFlag, segmentIds: Map<string, number>) {
  const strategies: unknown[] = [];
  const ft = f.fallthrough;
  if (f.type === "boolean") {
    for (const r of f.rules) strategies.push(strategy(f.key, r.when, segmentIds));
    if ("variant" in ft) {
      if (ft.variant === "on") strategies.push(strategy(f.key, undefined, segmentIds));
    } else {
      const on = ft.rollout.find(([v]) => v === "on")?.[1] ?? 0;
      const total = ft.rollout.reduce((s, [, w]) => s + w, 0);
      strategies.push(strategy(f.key, undefined, segmentIds, undefined, Math.round((100 * on) / total)));
    }
  } else {
    for (const r of f.rules)
      strategies.push(strategy(f.key, r.when, segmentIds, [[r.variant, f.variants[r.variant], 1000]]));
    if ("variant" in ft) {
      strategies.push(strategy(f.key, undefined, segmentIds, [[ft.variant, f.variants[ft.variant], 1000]]));
    } else {
      const total = ft.rollout.reduce((s, [, w]) => s + w, 0);
      strategies.push(
        strategy(
          f.key,
          undefined,
          segmentIds,
          ft.rollout.map(([v, w]) => [v, f.variants[v], Math.round((1000 * w) / total)]),
        ),
      );
    }
  }
  // Unleash treats a toggle without strategies as on for everyone: a boolean flag that no rule or
  // rollout turns on is simply disabled.
  const enabled = strategies.length > 0;
  return {
    name: f.key,
    enabled,
    type: "release",
    project: "default",
    stale: false,
    impressionData: false,
    strategies,
    variants: [],
  };
}

export function toUnleashBootstrap(w: Workload) {
  const segmentIds = new Map(w.segments.map((s, i) => [s.key, i + 1]));
  return {
    data: w.flags.map((f) => feature(f, segmentIds)),
    segments: w.segments.map((s, i) => ({
      id: i + 1,
      name: s.key,
      constraints: [
        { contextName: "userId", operator: "IN", values: s.included, caseInsensitive: false, inverted: false },
      ],
    })),
  };
}

export async function createUnleash(w: Workload): Promise<BenchEngine<Context>> {
  const unleash = new Unleash({
    appName: "edgeflags-bench",
    url: "http://127.0.0.1:9/api/", // never contacted: refreshInterval 0 disables fetching
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: toUnleashBootstrap(w) as never,
  });
  unleash.on("error", (e) => console.error("unleash error:", e));
  if (!unleash.isSynchronized()) await once(unleash, "ready");
  const booleans = new Set(w.flags.filter((f) => f.type === "boolean").map((f) => f.key));
  const keys = w.flags.map((f) => f.key);
  const one = (key: string, ctx: Context): unknown =>
    booleans.has(key) ? unleash.isEnabled(key, ctx) : unleash.getVariant(key, ctx).payload?.value;
  return {
    name: "unleash",
    notes:
      "Unleash({ bootstrap: { data, segments }, refreshInterval: 0, disableMetrics: true, InMemStorageProvider }); isEnabled for booleans, getVariant (strategy variants with payloads) otherwise; bulk = one call per toggle; segment = Unleash segment with a userId IN constraint",
    context: (c) => ({
      userId: c.targetingKey,
      properties: { email: c.email, country: c.country, plan: c.plan, age: String(c.age) },
    }),
    runOne(key, ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      if (booleans.has(key))
        for (let i = 0; i < n; i++) sum += consume(unleash.isEnabled(key, ctxs[(start + i) & mask]));
      else for (let i = 0; i < n; i++) sum += consume(unleash.getVariant(key, ctxs[(start + i) & mask]).payload?.value);
      return sum;
    },
    runAll(ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const ctx = ctxs[(start + i) & mask];
        for (let j = 0; j < keys.length; j++) sum += consume(one(keys[j]!, ctx));
      }
      return sum;
    },
    value: async (key, ctx) => one(key, ctx),
    variant: async (key, ctx) =>
      booleans.has(key) ? (unleash.isEnabled(key, ctx) ? "on" : "off") : unleash.getVariant(key, ctx).name,
    close: async () => unleash.destroy(),
  };
}
