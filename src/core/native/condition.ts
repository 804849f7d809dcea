/**
 * Native conditions and segments → predicates of the same shape the JSON Logic front-end
 * produces. Attribute paths are split once; segment key lists become Sets once per environment
 * (a 100k-key segment stays O(1) per evaluation), and `excluded` wins over `included` and rules.
 * @module
 */
import type { Condition, Segment } from "../model";
import { compileGetter, FLAGD, isInheritedName, splitPath, type PathCompileState } from "../path";
import type { Issue } from "../result";
import { nowMs, type Expr, type Pred } from "../runtime";
import { NATIVE_OPERATORS } from "./operators";
import type { AttributeTest } from "./types";
import type { StringIdTables } from "./string-ids";
import type { BigKeyLookup } from "../wire/big-segments";

export interface SegmentKeys {
  readonly included: ReadonlySet<string>;
  readonly excluded: ReadonlySet<string>;
}

/** Segments by key: a Map, or a snapshot reader that parses a segment when first asked for. */
export type SegmentLookup = Pick<ReadonlyMap<string, Segment>, "get">;

/** What native compilation of one flag needs; `keyCache` is shared by every flag of an environment. */
export interface NativeCompileEnv {
  readonly segments: SegmentLookup;
  readonly keyCache: Map<string, SegmentKeys>;
  readonly state: PathCompileState;
  readonly issues: Issue[];
  readonly segmentPreds: Map<string, Pred>;
  readonly segmentStack: string[];
  /** Shared by every flag of an environment (see string-ids.ts). */
  readonly stringIds: StringIdTables;
  /** Membership in big segments' batch-added keys; absent: those keys match nobody. */
  readonly bigKeys?: BigKeyLookup;
}

const NEVER: Pred = () => false;

function attributeReader(attribute: string, parts: readonly string[], op: string, env: NativeCompileEnv): Expr {
  // Dates compare instants: $flagd.timestamp (seconds in JSON Logic) is the clock in milliseconds here.
  if ((op === "before" || op === "after") && attribute === "$flagd.timestamp") {
    env.state.timeDependent = true;
    return (_ctx, rt) => nowMs(rt);
  }
  return compileGetter(parts, env.state);
}

// Runtime closures come from small factories so that they capture only what they use, not the
// compile environment, issue list or JSON paths (which a 10k-flag environment would retain).

function topLevelTest(attr: string, test: AttributeTest): Pred {
  return (ctx) => {
    const v = ctx[attr];
    return v !== undefined && v !== null && test(v);
  };
}

function readAndTest(read: Expr, test: AttributeTest): Pred {
  return (ctx, rt) => {
    const v = read(ctx, rt);
    return v !== undefined && v !== null && test(v);
  };
}

function both(a: Pred, b: Pred): Pred {
  return (ctx, rt) => a(ctx, rt) && b(ctx, rt);
}

function every(preds: readonly Pred[]): Pred {
  return (ctx, rt) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(ctx, rt)) return false;
    return true;
  };
}

function some(preds: readonly Pred[]): Pred {
  return (ctx, rt) => {
    for (let i = 0; i < preds.length; i++) if (preds[i]!(ctx, rt)) return true;
    return false;
  };
}

function negate(p: Pred): Pred {
  return (ctx, rt) => !p(ctx, rt);
}

function compileAll(conds: readonly Condition[], env: NativeCompileEnv, path: string, depth: number): Pred[] {
  const preds: Pred[] = [];
  for (let i = 0; i < conds.length; i++) preds.push(compileCondition(conds[i]!, env, `${path}[${i}]`, depth + 1));
  return preds;
}

/** Conditions nest this deep at most. */
export const MAX_CONDITION_DEPTH = 32;

export function compileCondition(cond: Condition, env: NativeCompileEnv, path: string, depth = 0): Pred {
  if (depth > MAX_CONDITION_DEPTH) {
    env.issues.push({ path, message: `conditions nest deeper than ${MAX_CONDITION_DEPTH} levels` });
    return NEVER;
  }
  if (cond === null || typeof cond !== "object") {
    env.issues.push({ path, message: "a condition must be an object" });
    return NEVER;
  }
  if ("attribute" in cond) {
    const op = NATIVE_OPERATORS.get(cond.op);
    if (!op) {
      env.issues.push({ path: `${path}.op`, message: `unknown operator ${JSON.stringify(cond.op)}` });
      return NEVER;
    }
    if (typeof cond.attribute !== "string" || cond.attribute.length === 0) {
      env.issues.push({ path: `${path}.attribute`, message: "attribute must be a non-empty path" });
      return NEVER;
    }
    const values = Array.isArray(cond.values) ? cond.values : [];
    const test = op.compile(cond.op, values);
    if (typeof test === "string") {
      env.issues.push({ path: `${path}.values`, message: test });
      return NEVER;
    }
    if (op.timeDependent) env.state.timeDependent = true;
    const parts = splitPath(cond.attribute);
    // A top-level attribute: the operator reads the context itself when it can (one call instead
    // of condition → getter → test on the hot path).
    // Fused reads are plain `ctx[attr]`: not for inherited names (`toString`), read own-only by the getter.
    const topLevel = parts.length === 1 && parts[0] !== FLAGD && !isInheritedName(parts[0]!);
    if (topLevel && op.fused) {
      const fused = op.fused(cond.op, values, parts[0]!, env.stringIds);
      if (fused) return fused;
    }
    if (topLevel) return topLevelTest(parts[0]!, test);
    return readAndTest(attributeReader(cond.attribute, parts, cond.op, env), test);
  }
  if ("segment" in cond) return compileSegmentRef(cond.segment, env, `${path}.segment`);
  if ("all" in cond) {
    if (!Array.isArray(cond.all) || cond.all.length === 0) {
      env.issues.push({ path: `${path}.all`, message: "all needs at least one condition" });
      return NEVER;
    }
    const preds = compileAll(cond.all, env, `${path}.all`, depth);
    if (preds.length === 1) return preds[0]!;
    if (preds.length === 2) return both(preds[0]!, preds[1]!);
    return every(preds);
  }
  if ("any" in cond) {
    if (!Array.isArray(cond.any) || cond.any.length === 0) {
      env.issues.push({ path: `${path}.any`, message: "any needs at least one condition" });
      return NEVER;
    }
    const preds = compileAll(cond.any, env, `${path}.any`, depth);
    if (preds.length === 1) return preds[0]!;
    return some(preds);
  }
  if ("not" in cond) {
    return negate(compileCondition(cond.not, env, `${path}.not`, depth + 1));
  }
  env.issues.push({ path, message: "a condition has attribute/op/values, segment, all, any or not" });
  return NEVER;
}

function segmentKeys(segment: Segment, env: NativeCompileEnv): SegmentKeys {
  let keys = env.keyCache.get(segment.key);
  if (!keys) {
    keys = { included: new Set(segment.included ?? []), excluded: new Set(segment.excluded ?? []) };
    env.keyCache.set(segment.key, keys);
  }
  return keys;
}

function compileSegmentRef(key: string, env: NativeCompileEnv, path: string): Pred {
  const cached = env.segmentPreds.get(key);
  if (cached) return cached;
  const segment = env.segments.get(key);
  if (!segment) {
    env.issues.push({ path, message: `unknown segment ${JSON.stringify(key)}` });
    return NEVER;
  }
  if (env.segmentStack.includes(key)) {
    env.issues.push({ path, message: `segment cycle: ${[...env.segmentStack, key].join(" → ")}` });
    return NEVER;
  }
  env.segmentStack.push(key);
  const rules = Array.isArray(segment.rules) ? compileAll(segment.rules, env, `segments.${key}.rules`, -1) : [];
  env.segmentStack.pop();
  const { included, excluded } = segmentKeys(segment, env);
  const big = segment.bigKeys && env.bigKeys ? env.bigKeys(key, segment.bigKeys) : undefined;
  const pred = segmentPred(key, included, excluded, rules, big);
  env.segmentPreds.set(key, pred);
  return pred;
}

function segmentPred(
  key: string,
  included: ReadonlySet<string>,
  excluded: ReadonlySet<string>,
  rules: readonly Pred[],
  big?: (targetingKey: string) => boolean,
): Pred {
  return (ctx, rt) => {
    const tk = ctx.targetingKey;
    let inSegment = false;
    if (typeof tk === "string") {
      if (excluded.has(tk)) return false;
      inSegment = included.has(tk) || (big !== undefined && big(tk));
    }
    for (let i = 0; !inSegment && i < rules.length; i++) inSegment = rules[i]!(ctx, rt);
    if (inSegment && rt.trace) rt.trace.segment = key;
    return inSegment;
  };
}
