/**
 * The benchmark's workloads a and b, evaluated by edgeflags (native EnvironmentDoc) and by
 * @openfeature/flagd-core 4.0.1 (the same flags as flagd JSON): same variant and value for every
 * flag and 1,000 generated contexts, rollouts included. Also catches a bench whose translations
 * drift from the logical definitions.
 */
import { describe, expect, it } from "vitest";
import { createFlagdCore } from "../../bench/peers/flagd";
import { compileOurs, toNativeDoc } from "../../bench/peers/ours";
import {
  expectedDecision,
  generateContexts,
  workloadA,
  workloadB,
  type BenchContext,
  type Workload,
} from "../../bench/workloads";

/** 1,000 contexts: 940 complete ones and 60 with an attribute (or the targeting key) missing. */
function contexts(seed: number): BenchContext[] {
  return generateContexts(1000, seed).map((c, i) => {
    const copy: Partial<BenchContext> = { ...c };
    if (i % 50 === 1) delete copy.targetingKey;
    if (i % 50 === 2) delete copy.email;
    if (i % 50 === 3) delete copy.country;
    return copy as BenchContext;
  });
}

function compare(w: Workload, ctxs: BenchContext[]) {
  const ours = compileOurs(toNativeDoc(w));
  const flagd = createFlagdCore(w);
  const mismatches: string[] = [];
  const served = new Map<string, number>();
  for (const c of ctxs) {
    for (const f of w.flags) {
      const o = ours.evaluate(f.key, { ...c });
      // The typed resolver an OpenFeature provider calls for the flag's type.
      const d =
        f.type === "boolean"
          ? flagd.resolveBooleanEvaluation(f.key, false, { ...c })
          : f.type === "string"
            ? flagd.resolveStringEvaluation(f.key, "", { ...c })
            : f.type === "number"
              ? flagd.resolveNumberEvaluation(f.key, 0, { ...c })
              : flagd.resolveObjectEvaluation(f.key, {}, { ...c });
      if (o.variant !== d.variant || JSON.stringify(o.value) !== JSON.stringify(d.value)) {
        mismatches.push(
          `${f.key} ${JSON.stringify(c)}: edgeflags ${o.variant}=${JSON.stringify(o.value)}, flagd-core ${d.variant}=${JSON.stringify(d.value)}`,
        );
      }
      if (c.targetingKey !== undefined) {
        const expected = expectedDecision(f, c, w.segments);
        const okDecision =
          typeof expected === "string"
            ? d.variant === expected
            : d.variant !== undefined && expected.includes(d.variant);
        if (!okDecision)
          mismatches.push(
            `${f.key} ${JSON.stringify(c)}: flagd-core ${d.variant}, definition says ${JSON.stringify(expected)}`,
          );
      }
      served.set(`${f.key}=${o.variant}`, (served.get(`${f.key}=${o.variant}`) ?? 0) + 1);
    }
  }
  return { mismatches, served };
}

describe("bench workloads: edgeflags and flagd-core agree", () => {
  it("workload a (ends-with, in 50 codes, 50/50 fractional) for 1,000 contexts", () => {
    const { mismatches, served } = compare(workloadA(), contexts(1));
    expect(mismatches.slice(0, 10)).toEqual([]);
    // All three branches were exercised, and the rollout split is roughly even.
    const [a, b, c] = ["A", "B", "C"].map((v) => served.get(`checkout-variant=${v}`) ?? 0);
    expect(a).toBeGreaterThan(150);
    expect(b).toBeGreaterThan(300);
    expect(c).toBeGreaterThan(100);
  }, 60_000);

  it("workload b (200 mixed flags) for 1,000 contexts", () => {
    const { mismatches, served } = compare(workloadB(), contexts(2));
    expect(mismatches.slice(0, 10)).toEqual([]);
    // Most flags served more than one variant over the contexts: the rules and rollouts did something.
    const variantsPerFlag = new Map<string, number>();
    for (const k of served.keys()) {
      const flag = k.slice(0, k.indexOf("="));
      variantsPerFlag.set(flag, (variantsPerFlag.get(flag) ?? 0) + 1);
    }
    expect([...variantsPerFlag.values()].filter((n) => n > 1).length).toBeGreaterThan(100);
  }, 60_000);
});
