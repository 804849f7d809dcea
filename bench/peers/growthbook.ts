/**
 * @growthbook/growthbook's multi-user server client (GrowthBookClient), initialised
 * synchronously from an in-memory payload: no API host, no streaming, no polling, no tracking.
 * @module
 */
import { GrowthBookClient, type FeatureApiResponse, type UserContext } from "@growthbook/growthbook";
import { consume, type LogicalCondition, type LogicalFlag, type Workload } from "../workloads";
import type { BenchEngine } from "./engine";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function condition(c: LogicalCondition): Record<string, unknown> {
  if ("segment" in c) return { id: { $inGroup: c.segment } };
  switch (c.op) {
    case "endsWith":
      return { [c.attr]: { $regex: `(${c.values.map(escapeRegex).join("|")})$` } };
    case "in":
      return { [c.attr]: { $in: c.values } };
    case "equals":
      return { [c.attr]: c.values[0] };
    case "gt":
      return { [c.attr]: { $gt: c.value } };
  }
}

function feature(f: LogicalFlag) {
  const rules: Array<Record<string, unknown>> = f.rules.map((r) => ({
    condition: condition(r.when),
    force: f.variants[r.variant],
  }));
  const ft = f.fallthrough;
  if ("variant" in ft) {
    if (ft.variant !== f.defaultVariant) rules.push({ force: f.variants[ft.variant] });
  } else {
    // GrowthBook's "percentage rollout" rule (force + coverage, hashed on `id`); the rest of the
    // traffic falls to the next rule.
    const total = ft.rollout.reduce((s, [, w]) => s + w, 0);
    let covered = 0;
    for (const [variant, weight] of ft.rollout.slice(0, -1)) {
      covered += weight;
      rules.push({ force: f.variants[variant], coverage: covered / total, hashAttribute: "id", seed: f.key });
    }
    rules.push({ force: f.variants[ft.rollout[ft.rollout.length - 1]![0]] });
  }
  return { defaultValue: f.variants[f.defaultVariant], rules };
}

export function toGrowthBookPayload(w: Workload): FeatureApiResponse {
  const features: Record<string, unknown> = {};
  for (const f of w.flags) features[f.key] = feature(f);
  const savedGroups: Record<string, string[]> = {};
  for (const s of w.segments) savedGroups[s.key] = s.included;
  return { features, savedGroups } as FeatureApiResponse;
}

export async function createGrowthBook(w: Workload): Promise<BenchEngine<UserContext>> {
  const client = new GrowthBookClient({});
  client.initSync({ payload: toGrowthBookPayload(w), streaming: false });
  const keys = w.flags.map((f) => f.key);
  const byValue = new Map(
    w.flags.map((f) => [f.key, new Map(Object.entries(f.variants).map(([n, v]) => [JSON.stringify(v), n]))]),
  );
  return {
    name: "growthbook",
    notes:
      "GrowthBookClient.initSync({ payload, streaming: false }); evalFeature(key, { attributes }); bulk = evalFeature per feature (no all-features API); rollouts as force+coverage rules",
    context: (c) => ({
      attributes: { id: c.targetingKey, email: c.email, country: c.country, plan: c.plan, age: c.age },
    }),
    runOne(key, ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += consume(client.evalFeature(key, ctxs[(start + i) & mask]!).value);
      return sum;
    },
    runAll(ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const ctx = ctxs[(start + i) & mask]!;
        for (let j = 0; j < keys.length; j++) sum += consume(client.evalFeature(keys[j]!, ctx).value);
      }
      return sum;
    },
    value: async (key, ctx) => client.evalFeature(key, ctx).value,
    variant: async (key, ctx) => byValue.get(key)!.get(JSON.stringify(client.evalFeature(key, ctx).value)),
    close: async () => client.destroy(),
  };
}
