/**
 * flagd's `fractional` (v2 bucketing): `{"fractional": [bucketBy?, [variant, weight], ...]}`.
 * Without a string `bucketBy` the key is flagKey + targetingKey, hashed from a murmur3 state
 * precomputed after the flag key. Invalid buckets, a missing targeting key or weights summing to
 * zero or above 2^31-1 yield null (the default variant).
 * @module
 */
import { bucketOf, murmur3, murmur3Finish, murmur3Prefix } from "../../murmur3";
import type { EvaluationContext } from "../../evaluation-types";
import type { Expr } from "../../runtime";
import { flagdOperatorInIterator, NOT_CONSTANT, type LogicOperator } from "../types";

export const FRACTIONAL = "fractional";
export const MAX_TOTAL_WEIGHT = 2147483647;

export interface Buckets {
  readonly variants: readonly unknown[];
  readonly weights: readonly number[];
  readonly total: number;
}

/** flagd-core `toBucketingList`; null when an entry is invalid. */
export function toBuckets(entries: readonly unknown[]): Buckets | null {
  const variants: unknown[] = [];
  const weights: number[] = [];
  let total = 0;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) return null;
    const v = entry[0];
    if (v !== null && v !== undefined && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
      return null;
    let weight = 1;
    if (entry.length === 2) {
      const raw = entry[1];
      if (typeof raw !== "number" || !Number.isInteger(raw)) return null;
      weight = Math.max(0, raw); // negative weights are clamped, as flagd does
    }
    variants.push(v ?? null);
    weights.push(weight);
    total += weight;
  }
  return { variants, weights, total };
}

/** The variant whose cumulative weight first exceeds the bucket of `hash`. */
export function pickBucket(hash: number, b: Buckets): unknown {
  if (b.total > MAX_TOTAL_WEIGHT) return null;
  const bucket = bucketOf(hash, b.total);
  let sum = 0;
  for (let i = 0; i < b.weights.length; i++) {
    sum += b.weights[i]!;
    if (sum > bucket) return b.variants[i];
  }
  return null;
}

export const fractionalOperators: LogicOperator[] = [
  {
    name: FRACTIONAL,
    deterministic: false,
    compile(args, c, path): Expr {
      if (c.state.iterator) return flagdOperatorInIterator(FRACTIONAL);
      const prefix = murmur3Prefix(c.state.flagKey);
      const byKey = (ctx: EvaluationContext, entries: readonly unknown[]): unknown => {
        const tk = ctx.targetingKey;
        if (!tk) return null;
        const buckets = toBuckets(entries);
        return buckets === null ? null : pickBucket(murmur3Finish(prefix, String(tk)), buckets);
      };
      if (Array.isArray(args) && args.length >= 1) {
        const rest = c.constant(args.slice(1));
        const restBuckets = rest !== NOT_CONSTANT ? toBuckets(rest as unknown[]) : null;
        if (rest !== NOT_CONSTANT && restBuckets !== null) {
          // The usual shapes: constant buckets after a bucketBy expression, or all-constant buckets.
          const first = c.compile(args[0], `${path}[0]`);
          const all = c.constant(args);
          const allBuckets = all !== NOT_CONSTANT && typeof args[0] !== "string" ? toBuckets(all as unknown[]) : null;
          if (allBuckets !== null) {
            return (ctx) => {
              const tk = ctx.targetingKey;
              return tk ? pickBucket(murmur3Finish(prefix, String(tk)), allBuckets) : null;
            };
          }
          return (ctx, rt) => {
            const by = first(ctx, rt);
            if (typeof by === "string") return pickBucket(murmur3(by), restBuckets);
            return byKey(ctx, [by, ...(rest as unknown[])]);
          };
        }
      }
      const a = c.args(args, path);
      return (ctx, rt) => {
        const data = a(ctx, rt);
        if (data.length < 1) return null;
        if (typeof data[0] === "string") {
          const buckets = toBuckets(data.slice(1));
          return buckets === null ? null : pickBucket(murmur3(data[0]), buckets);
        }
        return byKey(ctx, data);
      };
    },
  },
];
