/**
 * @launchdarkly/node-server-sdk fed by its TestData integration (an in-memory data source that
 * takes raw flag/segment JSON): no streaming, no polling, no events, no diagnostics.
 * The SDK's evaluation API is promise-based, so every call is awaited.
 * @module
 */
import { init, integrations, type LDClient, type LDContext } from "@launchdarkly/node-server-sdk";
import { consume, type LogicalCondition, type LogicalFlag, type LogicalServe, type Workload } from "../workloads";
import type { BenchEngine } from "./engine";

function clause(c: LogicalCondition) {
  if ("segment" in c) return { attribute: "", op: "segmentMatch", values: [c.segment], negate: false };
  const op = { endsWith: "endsWith", in: "in", equals: "in", gt: "greaterThan" }[c.op];
  return { contextKind: "user", attribute: c.attr, op, values: c.op === "gt" ? [c.value] : c.values, negate: false };
}

/** LaunchDarkly's flag JSON for a logical flag (rules in order, rollout weights in 1/100,000). */
export function ldFlag(f: LogicalFlag) {
  const names = Object.keys(f.variants);
  const index = (v: string) => names.indexOf(v);
  const serve = (s: LogicalServe) => {
    if ("variant" in s) return { variation: index(s.variant) };
    const total = s.rollout.reduce((sum, [, w]) => sum + w, 0);
    return {
      rollout: {
        variations: s.rollout.map(([v, w]) => ({ variation: index(v), weight: Math.round((100_000 * w) / total) })),
      },
    };
  };
  return {
    key: f.key,
    version: 1,
    on: true,
    variations: names.map((n) => f.variants[n]),
    offVariation: index(f.defaultVariant),
    targets: [],
    contextTargets: [],
    prerequisites: [],
    rules: f.rules.map((r, i) => ({
      id: `r${i}`,
      clauses: [clause(r.when)],
      variation: index(r.variant),
      trackEvents: false,
    })),
    fallthrough: serve(f.fallthrough),
    salt: f.key,
    trackEvents: false,
    trackEventsFallthrough: false,
    clientSide: false,
  };
}

/** The workload as LaunchDarkly test data (its offline data source), for the engine and the OpenFeature benches. */
export async function ldTestData(w: Workload): Promise<integrations.TestData> {
  const td = new integrations.TestData();
  for (const s of w.segments)
    await td.usePreconfiguredSegment({
      key: s.key,
      version: 1,
      included: s.included,
      excluded: [],
      rules: [],
      salt: s.key,
    });
  for (const f of w.flags) await td.usePreconfiguredFlag(ldFlag(f));
  return td;
}

export async function createLaunchDarkly(w: Workload): Promise<BenchEngine<LDContext>> {
  const td = await ldTestData(w);
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const client: LDClient = init("sdk-offline-bench", {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });
  await client.waitForInitialization({ timeout: 10 });
  const names = new Map(
    w.flags.map((f) => [f.key, new Map(Object.entries(f.variants).map(([n, v]) => [JSON.stringify(v), n]))]),
  );
  return {
    name: "launchdarkly",
    notes:
      "init(key, { updateProcessor: TestData (usePreconfiguredFlag/Segment raw JSON), sendEvents: false, diagnosticOptOut }); await variation(key, ctx, default); bulk = await allFlagsState(ctx)",
    context: (c) => ({
      kind: "user",
      key: c.targetingKey,
      email: c.email,
      country: c.country,
      plan: c.plan,
      age: c.age,
    }),
    async runOne(key, ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += consume(await client.variation(key, ctxs[(start + i) & mask]!, null));
      return sum;
    },
    async runAll(ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const values = (await client.allFlagsState(ctxs[(start + i) & mask]!)).allValues();
        for (const k in values) sum += consume(values[k]);
      }
      return sum;
    },
    value: (key, ctx) => client.variation(key, ctx, null),
    async variant(key, ctx) {
      return names.get(key)!.get(JSON.stringify(await client.variation(key, ctx, null)));
    },
    close: async () => client.close(),
  };
}
