/**
 * Progressive rollouts: the fallthrough a release plan serves at each step. Pure.
 *
 * Why a user who got the plan's variant keeps it at every later step: a rollout buckets a user by
 * `murmur3(flagKey + bucketBy value)` scaled to the rollout's total weight, and serves the variant
 * whose cumulative weight range holds that bucket (src/core/serve.ts, flagd `fractional`). Every
 * step built here keeps the same bucketBy and the same total `T` (fixed when the plan starts), so a
 * user's bucket never changes during the plan. The plan's variant always owns the first range,
 * `[0, P)`, and `P` only grows from step to step, so a bucket below `P` stays below every later
 * `P`. The rest of the range, `[P, T)`, keeps what the fallthrough served before the plan, bucket
 * for bucket: the old rollout's boundaries are scaled exactly (T is a multiple of the old total),
 * and only the part below `P` is cut away. So a user leaves the old distribution only to join the
 * variant, and nobody ever leaves the variant. At 100 % the fallthrough becomes the variant itself.
 * @module
 */
import type { Flag, Serve } from "./model";
import type { Issue, Result } from "./result";
import type { PlanStep } from "./wire/dto/requests";

export type { PlanStep };

/** Percent is kept in hundredths: 10,000 units make 100 %. */
const PERCENT_UNITS = 10_000;
export const MAX_PLAN_STEPS = 50;
export const MAX_WAIT_SECONDS = 366 * 24 * 3600;
/** serve.ts refuses rollouts above this total weight. */
const MAX_TOTAL = 2_147_483_647;

interface Split {
  bucketBy?: string;
  variants: { variant: string; weight: number }[];
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Checks the steps of a plan body (zod has checked the types). */
export function checkSteps(steps: readonly PlanStep[]): Issue[] {
  const issues: Issue[] = [];
  if (steps.length === 0 || steps.length > MAX_PLAN_STEPS)
    issues.push({ path: "steps", message: `must have 1 to ${MAX_PLAN_STEPS} steps` });
  steps.forEach((step, i) => {
    const units = step.percent * 100;
    if (!(step.percent > 0 && step.percent <= 100) || Math.abs(units - Math.round(units)) > 1e-9) {
      issues.push({
        path: `steps[${i}].percent`,
        message: "must be above 0 and at most 100, with at most two decimals",
      });
    } else if (i > 0 && step.percent <= steps[i - 1]!.percent) {
      issues.push({ path: `steps[${i}].percent`, message: "must be larger than the previous step's" });
    }
    if (!Number.isInteger(step.waitSeconds) || step.waitSeconds < 0 || step.waitSeconds > MAX_WAIT_SECONDS) {
      issues.push({
        path: `steps[${i}].waitSeconds`,
        message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
      });
    }
  });
  if (steps.length > 0 && steps[steps.length - 1]!.percent !== 100)
    issues.push({ path: `steps[${steps.length - 1}].percent`, message: "the last step must be 100" });
  return issues;
}

/** What the flag's fallthrough serves today, as weights; an error when it serves nothing or is JSON Logic. */
export function baseSplit(flag: Flag, variant: string): Result<Split> {
  const fail = (path: string, message: string): Result<Split> => ({ ok: false, errors: [{ path, message }] });
  if (flag.targeting !== undefined && flag.targeting !== null)
    return fail("", "the flag uses flagd JSON Logic targeting, which has no fallthrough to roll out on");
  if (!Object.hasOwn(flag.variants, variant))
    return fail("variant", `the flag has no variant ${JSON.stringify(variant)}`);
  const serve: Serve | undefined =
    flag.fallthrough ?? (flag.defaultVariant ? { variant: flag.defaultVariant } : undefined);
  if (!serve)
    return fail("", "the flag's fallthrough serves no variant (no fallthrough and no default variant): set one first");
  if ("variant" in serve) return { ok: true, value: { variants: [{ variant: serve.variant, weight: 1 }] } };
  const total = serve.rollout.variants.reduce((sum, v) => sum + v.weight, 0);
  if (total <= 0) return fail("", "the flag's fallthrough rollout has no weight");
  const scaled = (total / gcd(total, PERCENT_UNITS)) * PERCENT_UNITS;
  if (scaled > MAX_TOTAL)
    return fail("", "the flag's fallthrough rollout weights are too fine-grained to combine with percent steps");
  return {
    ok: true,
    value: {
      ...(serve.rollout.bucketBy === undefined ? {} : { bucketBy: serve.rollout.bucketBy }),
      variants: serve.rollout.variants,
    },
  };
}

/**
 * The fallthrough at `percent` % of a plan rolling `variant` out over `base` (see the module
 * comment for why users keep the variant as percent grows).
 */
export function serveAt(base: Split, variant: string, percent: number): Serve {
  if (percent >= 100) return { variant };
  const oldTotal = base.variants.reduce((sum, v) => sum + v.weight, 0);
  const total = (oldTotal / gcd(oldTotal, PERCENT_UNITS)) * PERCENT_UNITS;
  const scale = total / oldTotal;
  const cut = Math.round(percent * 100) * (total / PERCENT_UNITS);
  const variants = [{ variant, weight: cut }];
  let start = 0;
  for (const part of base.variants) {
    const end = start + part.weight * scale;
    const weight = end - Math.max(start, cut);
    start = end;
    if (weight <= 0) continue;
    const last = variants[variants.length - 1]!;
    // Neighbouring ranges of one variant are one range: merging them moves no bucket.
    if (last.variant === part.variant) last.weight += weight;
    else variants.push({ variant: part.variant, weight });
  }
  return { rollout: { ...(base.bucketBy === undefined ? {} : { bucketBy: base.bucketBy }), variants } };
}
