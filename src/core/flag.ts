/**
 * One flag compiled: its decision closure, read top-down as LaunchDarkly's evaluator reads —
 * prerequisites → individual targets → rules → fallthrough — or flagd JSON Logic targeting, and
 * the frozen results it answers with. Deciding never throws: a JSON Logic error is caught once
 * here and answered as ERROR/GENERAL, as flagd-core does.
 * @module
 */
import type { CompiledFlag } from "./engine";
import type { Flag, FlagType, Metadata } from "./model";
import type { EvaluationContext, EvaluationResult, Explanation, Issue } from "./result";
import { FlagResults } from "./results";
import type { Runtime } from "./runtime";
import { compileTargeting, hasTargeting } from "./logic/compile-logic";
import { compileCondition, type NativeCompileEnv, type SegmentKeys } from "./native/condition";
import { compileServe, type ServeFn } from "./serve";
import type { Segment } from "./model";

type Decide = (ctx: EvaluationContext, rt: Runtime) => EvaluationResult;

/** How a prerequisite's answer is obtained (the environment evaluates the other flag). */
export type EvaluateFlag = (key: string, ctx: EvaluationContext, rt: Runtime) => EvaluationResult;

export interface FlagCompileEnv {
  readonly segments: ReadonlyMap<string, Segment>;
  readonly keyCache: Map<string, SegmentKeys>;
  readonly evaluators: Record<string, unknown> | undefined;
  readonly docMetadata: Metadata | undefined;
  readonly evaluateFlag: EvaluateFlag;
  /** "reject": invalid targeting is an issue; "parse-error": the flag answers PARSE_ERROR (flagd). */
  readonly invalidTargeting: "reject" | "parse-error";
}

export class FlagImpl implements CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly clientVisible: boolean;
  timeDependent: boolean;
  readonly enabled: boolean;
  readonly results: FlagResults;
  readonly prerequisiteKeys: readonly string[];
  private readonly decide: Decide;
  private readonly parseError: EvaluationResult | undefined;

  constructor(flag: Flag, env: FlagCompileEnv, issues: Issue[], path: string) {
    this.key = flag.key;
    this.type = flag.type;
    this.clientVisible = flag.clientVisible === true;
    this.enabled = flag.enabled !== false;
    const metadata = Object.freeze({ ...(env.docMetadata ?? {}), ...(flag.metadata ?? {}) });
    const results = (this.results = new FlagResults(flag.key, flag.variants ?? {}, metadata));
    this.prerequisiteKeys = (flag.prerequisites ?? []).map((p) => p.flag);
    const state = { flagKey: flag.key, timeDependent: false };
    const defaultVariant = flag.defaultVariant ?? undefined;
    const defaultResult = results.fallback(defaultVariant, "DEFAULT");

    let body: Decide;
    if (hasTargeting(flag.targeting)) {
      if ((flag.rules?.length ?? 0) > 0 || (flag.targets?.length ?? 0) > 0 || flag.fallthrough) {
        issues.push({ path: `${path}.targeting`, message: "a flag has either JSON Logic targeting or targets/rules/fallthrough, not both" });
      }
      const compiled = compileTargeting(flag.targeting, flag.key, env.evaluators, `${path}.targeting`);
      if (!compiled.ok) {
        if (env.invalidTargeting === "reject") issues.push(...compiled.errors);
        else this.parseError = results.error("PARSE_ERROR", `Invalid targeting configuration for flag '${flag.key}': ${compiled.errors[0]!.message}`);
        body = () => results.generalError;
      } else {
        state.timeDependent = compiled.value.timeDependent;
        body = logicDecide(compiled.value.fn, results, defaultResult, flag.key);
      }
    } else {
      body = nativeDecide(flag, results, defaultResult, { ...env, state, issues, segmentPreds: new Map(), segmentStack: [] }, path);
    }
    this.timeDependent = state.timeDependent;
    this.decide = this.prerequisiteKeys.length > 0 ? withPrerequisites(flag, body, defaultResult, env.evaluateFlag) : body;
  }

  /** The answer for `ctx`; never throws. */
  run(ctx: EvaluationContext, rt: Runtime): EvaluationResult {
    if (!this.enabled) {
      if (rt.trace) rt.trace.step = "disabled";
      return this.results.disabled;
    }
    if (this.parseError) {
      if (rt.trace) rt.trace.step = "error";
      return this.parseError;
    }
    try {
      return this.decide(ctx, rt);
    } catch (e) {
      if (rt.trace) {
        rt.trace.step = "error";
        rt.trace.detail = (e as Error)?.message;
      }
      return this.results.generalError;
    }
  }
}

function logicDecide(fn: (ctx: EvaluationContext, rt: Runtime) => unknown, results: FlagResults, defaultResult: EvaluationResult, key: string): Decide {
  const table = results.table("TARGETING_MATCH");
  return (ctx, rt) => {
    const v = fn(ctx, rt);
    if (v === null || v === undefined) {
      if (rt.trace) rt.trace.step = "default";
      return defaultResult;
    }
    // flagd-core: any non-null result names a variant through its string form.
    const variant = typeof v === "string" ? v : String(v);
    const r = table.get(variant);
    if (rt.trace) {
      rt.trace.step = r ? "targeting" : "error";
      rt.trace.detail = `targeting returned ${JSON.stringify(variant)}`;
    }
    return r ?? results.error("GENERAL", `Variant '${variant}' not found in flag with key '${key}'`);
  };
}

function nativeDecide(flag: Flag, results: FlagResults, defaultResult: EvaluationResult, env: NativeCompileEnv, path: string): Decide {
  const targets = flag.targets ?? [];
  const rules = flag.rules ?? [];
  const isStatic = targets.length === 0 && rules.length === 0 && (flag.prerequisites?.length ?? 0) === 0 &&
    (!flag.fallthrough || "variant" in flag.fallthrough);
  if (isStatic) {
    const variant = flag.fallthrough && "variant" in flag.fallthrough ? flag.fallthrough.variant : flag.defaultVariant;
    if (flag.fallthrough && variant && !results.get(variant, "STATIC")) {
      env.issues.push({ path: `${path}.fallthrough.variant`, message: `unknown variant ${JSON.stringify(variant)}` });
    }
    const r = variant ? results.get(variant, "STATIC") ?? results.noValueDefault : results.noValueDefault;
    return (_ctx, rt) => {
      if (rt.trace) rt.trace.step = r.reason === "STATIC" ? "fallthrough" : "default";
      return r;
    };
  }

  const byTarget = new Map<string, EvaluationResult>();
  targets.forEach((t, i) => {
    const r = results.get(t.variant, "TARGETING_MATCH");
    if (!r) env.issues.push({ path: `${path}.targets[${i}].variant`, message: `unknown variant ${JSON.stringify(t.variant)}` });
    else for (const v of t.values ?? []) if (!byTarget.has(v)) byTarget.set(v, r);
  });
  const whens = rules.map((r, i) => compileCondition(r.when, env, `${path}.rules[${i}].when`));
  const serves = rules.map((r, i) => compileServe(r.serve, results, "TARGETING_MATCH", env.state, env.issues, `${path}.rules[${i}].serve`));
  const ruleIds = rules.map((r) => r.id);
  const fallthrough: ServeFn = flag.fallthrough
    ? compileServe(flag.fallthrough, results, "DEFAULT", env.state, env.issues, `${path}.fallthrough`)
    : () => undefined;
  const n = rules.length;

  return (ctx, rt) => {
    if (byTarget.size > 0) {
      const tk = ctx.targetingKey;
      if (typeof tk === "string") {
        const r = byTarget.get(tk);
        if (r) {
          if (rt.trace) rt.trace.step = "target";
          return r;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (whens[i]!(ctx, rt)) {
        if (rt.trace) {
          rt.trace.step = "rule";
          rt.trace.ruleIndex = i;
          if (ruleIds[i] !== undefined) rt.trace.ruleId = ruleIds[i];
        }
        const r = serves[i]!(ctx, rt);
        if (r) return r;
        if (rt.trace) rt.trace.detail = "rollout without a bucketing value: default variant";
        return defaultResult;
      }
    }
    const r = fallthrough(ctx, rt);
    if (rt.trace) rt.trace.step = r ? "fallthrough" : "default";
    return r ?? defaultResult;
  };
}

function withPrerequisites(flag: Flag, body: Decide, defaultResult: EvaluationResult, evaluateFlag: EvaluateFlag): Decide {
  const prereqs = (flag.prerequisites ?? []).map((p) => [p.flag, p.variant] as const);
  return (ctx, rt) => {
    // A prerequisite's own explanation must not overwrite this flag's.
    const inner: Runtime = rt.trace ? { now: rt.now, trace: undefined } : rt;
    for (const [key, expected] of prereqs) {
      const r = evaluateFlag(key, ctx, inner);
      if (r.variant !== expected || r.value === undefined) {
        if (rt.trace) {
          const trace: Explanation = rt.trace;
          trace.step = "prerequisite";
          trace.prerequisite = r.variant === undefined ? { flag: key, expected } : { flag: key, expected, got: r.variant };
          trace.detail = `prerequisite ${key} is not ${expected}`;
        }
        return defaultResult;
      }
    }
    return body(ctx, rt);
  };
}
