/**
 * What a matched rule or the fallthrough serves: a fixed variant, or a percentage rollout bucketed
 * exactly like flagd's `fractional` (murmur3 of flagKey + bucketBy value, v2 integer buckets).
 * A rollout without a bucketing value (no targetingKey) serves nothing: the default, as flagd.
 * @module
 */
import type { Serve } from "./model";
import { bucketOf, murmur3Finish, murmur3Prefix } from "./murmur3";
import { compileGetter, splitPath, type PathCompileState } from "./path";
import type { EvaluationContext, EvaluationResult, Issue } from "./result";
import type { FlagResults } from "./results";
import type { Runtime } from "./runtime";
import { MAX_TOTAL_WEIGHT } from "./logic/ops/fractional";

/** Answers a result, or undefined for "serve the default". */
export type ServeFn = (ctx: EvaluationContext, rt: Runtime) => EvaluationResult | undefined;

export function compileServe(
  serve: Serve,
  results: FlagResults,
  reason: "TARGETING_MATCH" | "DEFAULT" | "STATIC",
  state: PathCompileState,
  issues: Issue[],
  path: string,
): ServeFn {
  if ("variant" in serve) {
    const r = results.get(serve.variant, reason);
    if (!r) {
      issues.push({ path: `${path}.variant`, message: `unknown variant ${JSON.stringify(serve.variant)}` });
      return () => undefined;
    }
    return () => r;
  }
  const rollout = serve.rollout;
  const variants = Array.isArray(rollout?.variants) ? rollout.variants : [];
  if (variants.length === 0) {
    issues.push({ path: `${path}.rollout.variants`, message: "a rollout needs at least one variant" });
    return () => undefined;
  }
  const served: EvaluationResult[] = [];
  const weights: number[] = [];
  let total = 0;
  variants.forEach((wv, i) => {
    const r = results.get(wv.variant, "SPLIT");
    if (!r) issues.push({ path: `${path}.rollout.variants[${i}].variant`, message: `unknown variant ${JSON.stringify(wv.variant)}` });
    if (!Number.isInteger(wv.weight) || wv.weight < 0) issues.push({ path: `${path}.rollout.variants[${i}].weight`, message: "weight must be a non-negative integer" });
    served.push(r!);
    weights.push(wv.weight);
    total += wv.weight;
  });
  if (total <= 0) issues.push({ path: `${path}.rollout.variants`, message: "rollout weights sum to zero" });
  if (total > MAX_TOTAL_WEIGHT) issues.push({ path: `${path}.rollout.variants`, message: `rollout weights sum above ${MAX_TOTAL_WEIGHT}` });
  const by = rollout.bucketBy ?? "targetingKey";
  const read = compileGetter(splitPath(by), state);
  const prefix = murmur3Prefix(state.flagKey);
  return (ctx, rt) => {
    const v = read(ctx, rt);
    let s: string;
    if (typeof v === "string" && v !== "") s = v;
    else if (typeof v === "number" && Number.isFinite(v)) s = String(v);
    else return undefined;
    const bucket = bucketOf(murmur3Finish(prefix, s), total);
    if (rt.trace) rt.trace.bucket = { by, value: bucket, total };
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i]!;
      if (sum > bucket) return served[i];
    }
    return undefined;
  };
}
