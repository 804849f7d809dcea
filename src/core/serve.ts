/**
 * What a matched rule or the fallthrough serves: a fixed variant, or a percentage rollout bucketed
 * exactly like flagd's `fractional` (murmur3 of flagKey + bucketBy value, v2 integer buckets).
 * A rollout without a bucketing value (no targetingKey) serves nothing: the default, as flagd.
 * @module
 */
import type { Serve } from "./model";
import { bucketOf, murmur3Finish, murmur3Prefix, type Murmur3State } from "./murmur3";
import { compileGetter, FLAGD, isInheritedName, splitPath, type PathCompileState } from "./path";
import type { Issue } from "./result";
import type { EvaluationContext, EvaluationResult } from "./evaluation-types";
import type { FlagResults } from "./flag-results";
import type { Expr, Runtime } from "./runtime";
import { MAX_TOTAL_WEIGHT } from "./logic/ops/fractional";

/** Answers a result, or undefined for "serve the default". */
export type ServeFn = (ctx: EvaluationContext, rt: Runtime) => EvaluationResult | undefined;

/**
 * A compiled serve: `fixed` when it always answers the same result (the decide closure then
 * returns it without a call), else `fn`. Both undefined: serves nothing (the default).
 */
export interface CompiledServe {
  readonly fixed: EvaluationResult | undefined;
  readonly fn: ServeFn | undefined;
}

const NOTHING: CompiledServe = Object.freeze({ fixed: undefined, fn: undefined });

export function compileServe(
  serve: Serve,
  results: FlagResults,
  reason: "TARGETING_MATCH" | "DEFAULT" | "STATIC",
  state: PathCompileState,
  issues: Issue[],
  path: string,
): CompiledServe {
  if ("variant" in serve) {
    const r = results.get(serve.variant, reason);
    if (!r) {
      issues.push({ path: `${path}.variant`, message: `unknown variant ${JSON.stringify(serve.variant)}` });
      return NOTHING;
    }
    return { fixed: r, fn: undefined };
  }
  const rollout = serve.rollout;
  const variants = Array.isArray(rollout?.variants) ? rollout.variants : [];
  if (variants.length === 0) {
    issues.push({ path: `${path}.rollout.variants`, message: "a rollout needs at least one variant" });
    return NOTHING;
  }
  const served: EvaluationResult[] = [];
  const weights: number[] = [];
  let total = 0;
  for (let i = 0; i < variants.length; i++) {
    const wv = variants[i]!;
    const r = results.get(wv.variant, "SPLIT");
    if (!r)
      issues.push({
        path: `${path}.rollout.variants[${i}].variant`,
        message: `unknown variant ${JSON.stringify(wv.variant)}`,
      });
    if (!Number.isInteger(wv.weight) || wv.weight < 0)
      issues.push({ path: `${path}.rollout.variants[${i}].weight`, message: "weight must be a non-negative integer" });
    served.push(r!);
    weights.push(wv.weight);
    total += wv.weight;
  }
  if (total <= 0) issues.push({ path: `${path}.rollout.variants`, message: "rollout weights sum to zero" });
  if (total > MAX_TOTAL_WEIGHT)
    issues.push({ path: `${path}.rollout.variants`, message: `rollout weights sum above ${MAX_TOTAL_WEIGHT}` });
  const by = rollout.bucketBy ?? "targetingKey";
  const parts = splitPath(by);
  const prefix = murmur3Prefix(state.flagKey);
  // The usual rollout (a top-level attribute, two variants) reads the context itself: one call less.
  if (
    parts.length === 1 &&
    parts[0] !== FLAGD &&
    !isInheritedName(parts[0]!) &&
    served.length === 2 &&
    total > 0 &&
    total < TWO_POW_21
  ) {
    return { fixed: undefined, fn: twoWayRollout(parts[0]!, by, prefix, total, weights[0]!, served[0]!, served[1]!) };
  }
  return { fixed: undefined, fn: rolloutServe(compileGetter(parts, state), by, prefix, total, weights, served) };
}

/** The string a rollout hashes: non-empty strings and finite numbers; anything else serves nothing. */
function bucketKey(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

// Runtime closures are made by small factories so that they capture only what they use (not the
// issue list or JSON paths of the compile).

const TWO_POW_21 = 0x200000;
const TWO_POW_32 = 4294967296;

function twoWayRollout(
  attr: string,
  by: string,
  prefix: Murmur3State,
  total: number,
  firstWeight: number,
  first: EvaluationResult,
  second: EvaluationResult,
): ServeFn {
  const threshold = firstWeight * TWO_POW_32;
  return (ctx, rt) => {
    const v = ctx[attr];
    const s = typeof v === "string" && v !== "" ? v : bucketKey(v);
    if (s === undefined) return undefined;
    const hash = murmur3Finish(prefix, s);
    if (rt.trace) rt.trace.bucket = { by, value: bucketOf(hash, total), total };
    // bucket = floor(hash * total / 2^32) < firstWeight  ⇔  hash * total < firstWeight * 2^32: both sides are exact
    // below 2^53 (total < 2^21), so no division or floor on the hot path. A bucket is always below total.
    return hash * total < threshold ? first : second;
  };
}

function rolloutServe(
  read: Expr,
  by: string,
  prefix: Murmur3State,
  total: number,
  weights: readonly number[],
  served: readonly EvaluationResult[],
): ServeFn {
  return (ctx, rt) => {
    const s = bucketKey(read(ctx, rt));
    if (s === undefined) return undefined;
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
