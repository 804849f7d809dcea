/**
 * One flag compiled: its decision closure, read top-down as LaunchDarkly's evaluator reads —
 * prerequisites → individual targets → rules → fallthrough — or flagd JSON Logic targeting, and
 * the frozen results it answers with. Deciding never throws: a JSON Logic error is caught once
 * here and answered as ERROR/GENERAL, as flagd-core does.
 *
 * Speed: each flag gets one decide closure chosen for its shape at compile time (disabled,
 * parse error, static, 1 or 2 rules with fixed serves, general), so an evaluation is one call
 * plus one per condition tested. Closures are made by small factory functions that capture only
 * what evaluation reads (never the issue list, JSON paths or compile environment).
 * @module
 */
import type { CompiledFlag, EvaluationContext, EvaluationResult, Explanation } from "./evaluation-types";
import type { Flag, FlagType, Metadata } from "./model";
import type { Issue } from "./result";
import { FlagResults } from "./flag-results";
import type { Expr, Pred, Runtime } from "./runtime";
import { compileTargeting, hasTargeting } from "./logic/compile-logic";
import { compileCondition, type SegmentKeys, type SegmentLookup } from "./native/condition";
import { compileServe, type ServeFn } from "./serve";
import type { PathCompileState } from "./path";
import type { StringIdTables } from "./native/string-ids";
import type { BigKeyLookup } from "./wire/big-segments";

type Decide = (ctx: EvaluationContext, rt: Runtime) => EvaluationResult;

/** How a prerequisite's answer is obtained (the environment evaluates the other flag). */
export type EvaluateFlag = (key: string, ctx: EvaluationContext, rt: Runtime) => EvaluationResult;

export interface FlagCompileEnv {
  readonly segments: SegmentLookup;
  readonly keyCache: Map<string, SegmentKeys>;
  readonly stringIds: StringIdTables;
  readonly evaluators: Record<string, unknown> | undefined;
  /** Frozen once per compile (see compile.ts): shared by flags without metadata of their own. */
  readonly docMetadata: Readonly<Metadata> | undefined;
  readonly evaluateFlag: EvaluateFlag;
  /** "reject": invalid targeting is an issue; "parse-error": the flag answers PARSE_ERROR (flagd). */
  readonly invalidTargeting: "reject" | "parse-error";
  /** Big segments' key membership (CompileOptions.bigKeys). */
  readonly bigKeys?: BigKeyLookup;
}

/**
 * How bulk evaluation runs a flag without calling its decide closure (one megamorphic call less
 * per flag): the common native shapes, with their parts as plain fields.
 */
export const enum Shape {
  /** Call `run`. */
  General = 0,
  /** No rules: the fallthrough. */
  Fallthrough = 1,
  /** Rule 0 → firstResult, else the fallthrough. */
  OneRule = 2,
  /** Rule 0 → firstResult, rule 1 → secondResult, else the fallthrough. */
  TwoRules = 3,
}

/** The shape's fields of a compiled flag, declared once on FlagImpl. */
type ShapeParts = Pick<
  FlagImpl,
  "shape" | "firstWhen" | "firstResult" | "secondWhen" | "secondResult" | "fallthroughFixed" | "fallthroughFn"
>;

const GENERAL: ShapeParts = Object.freeze({
  shape: Shape.General,
  firstWhen: undefined,
  firstResult: undefined,
  secondWhen: undefined,
  secondResult: undefined,
  fallthroughFixed: undefined,
  fallthroughFn: undefined,
});

const NO_KEYS: readonly string[] = Object.freeze([]);
const EMPTY_METADATA: Readonly<Metadata> = Object.freeze({});

/** Flags without metadata of their own share the compile's frozen document metadata (one object, not 10k). */
function flagMetadata(doc: Readonly<Metadata> | undefined, own: Metadata | undefined): Readonly<Metadata> {
  if (own && Object.keys(own).length > 0) return Object.freeze({ ...(doc ?? {}), ...own });
  return doc && Object.isFrozen(doc) ? doc : Object.freeze({ ...(doc ?? EMPTY_METADATA) });
}

export class FlagImpl implements CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly clientVisible: boolean;
  timeDependent: boolean;
  readonly enabled: boolean;
  readonly results: FlagResults;
  readonly prerequisiteKeys: readonly string[];
  /**
   * The answer when it never depends on the context (static, disabled, parse error): bulk
   * evaluation returns it without a call. Undefined otherwise.
   */
  readonly fixed: EvaluationResult | undefined;
  /** The whole decision, disabled and parse-error answers included. */
  private readonly decide: Decide;
  // The shape's parts for bulk evaluation (see Shape); every flag has all fields (one hidden class).
  readonly shape: Shape;
  readonly firstWhen: Pred | undefined;
  readonly firstResult: EvaluationResult | undefined;
  readonly secondWhen: Pred | undefined;
  readonly secondResult: EvaluationResult | undefined;
  readonly fallthroughFixed: EvaluationResult | undefined;
  readonly fallthroughFn: ServeFn | undefined;
  readonly defaultResult: EvaluationResult;

  /**
   * `invalid`: the flag cannot be compiled (a lazy compile found a problem in it or in what it
   * needs, see lazy-compile.ts): it answers PARSE_ERROR with this message and its body is not compiled.
   */
  constructor(flag: Flag, env: FlagCompileEnv, issues: Issue[], path: string, invalid?: string) {
    this.key = flag.key;
    this.type = flag.type;
    this.clientVisible = flag.clientVisible === true;
    this.enabled = flag.enabled !== false;
    const results = (this.results = new FlagResults(
      flag.key,
      flag.variants ?? {},
      flagMetadata(env.docMetadata, flag.metadata),
    ));
    this.prerequisiteKeys =
      flag.prerequisites && flag.prerequisites.length > 0 ? flag.prerequisites.map((p) => p.flag) : NO_KEYS;
    const state: PathCompileState = { flagKey: flag.key, timeDependent: false };
    const defaultResult = results.fallback(flag.defaultVariant ?? undefined, "DEFAULT");

    // The body is compiled (and validated) even for a disabled flag.
    let body: Decide;
    let parseError: EvaluationResult | undefined;
    let staticResult: EvaluationResult | undefined;
    let parts = GENERAL;
    if (invalid !== undefined) {
      parseError = results.error("PARSE_ERROR", invalid);
      body = fixedAnswer(parseError, "error");
    } else if (hasTargeting(flag.targeting)) {
      if ((flag.rules?.length ?? 0) > 0 || (flag.targets?.length ?? 0) > 0 || flag.fallthrough) {
        issues.push({
          path: `${path}.targeting`,
          message: "a flag has either JSON Logic targeting or targets/rules/fallthrough, not both",
        });
      }
      const compiled = compileTargeting(flag.targeting, flag.key, env.evaluators, `${path}.targeting`);
      if (!compiled.ok) {
        if (env.invalidTargeting === "reject") issues.push(...compiled.errors);
        else
          parseError = results.error(
            "PARSE_ERROR",
            `Invalid targeting configuration for flag '${flag.key}': ${compiled.errors[0]!.message}`,
          );
        body = fixedAnswer(results.generalError, "error");
      } else {
        state.timeDependent = compiled.value.timeDependent;
        body = logicDecide(compiled.value.fn, results.table("TARGETING_MATCH"), results, defaultResult, flag.key);
      }
    } else if ((staticResult = nativeStatic(flag, results, issues, path))) {
      body = fixedAnswer(staticResult, staticResult.reason === "STATIC" ? "fallthrough" : "default");
    } else {
      const native = nativeDecide(flag, results, defaultResult, env, state, issues, path);
      body = native.decide;
      parts = native.parts;
    }
    this.timeDependent = state.timeDependent;
    if (this.prerequisiteKeys.length > 0) {
      body = withPrerequisites(flag, body, defaultResult, env.evaluateFlag);
      parts = GENERAL;
    }
    this.shape = parts.shape;
    this.firstWhen = parts.firstWhen;
    this.firstResult = parts.firstResult;
    this.secondWhen = parts.secondWhen;
    this.secondResult = parts.secondResult;
    this.fallthroughFixed = parts.fallthroughFixed;
    this.fallthroughFn = parts.fallthroughFn;
    this.defaultResult = defaultResult;
    this.fixed = !this.enabled ? results.disabled : (parseError ?? staticResult);
    this.decide = !this.enabled
      ? fixedAnswer(results.disabled, "disabled")
      : parseError
        ? fixedAnswer(parseError, "error")
        : body;
  }

  /** The answer for `ctx`; never throws. */
  run(ctx: EvaluationContext, rt: Runtime): EvaluationResult {
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

/** Always the same answer (disabled, parse error, static). */
function fixedAnswer(r: EvaluationResult, step: string): Decide {
  return (_ctx, rt) => {
    if (rt.trace) rt.trace.step = step;
    return r;
  };
}

function logicDecide(
  fn: Expr,
  table: Map<string, EvaluationResult>,
  results: FlagResults,
  defaultResult: EvaluationResult,
  key: string,
): Decide {
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

/** The one answer of a native flag without targets, rules or prerequisites; undefined for other flags. */
function nativeStatic(flag: Flag, results: FlagResults, issues: Issue[], path: string): EvaluationResult | undefined {
  const isStatic =
    (flag.targets?.length ?? 0) === 0 &&
    (flag.rules?.length ?? 0) === 0 &&
    (flag.prerequisites?.length ?? 0) === 0 &&
    (!flag.fallthrough || "variant" in flag.fallthrough);
  if (!isStatic) return undefined;
  const variant = flag.fallthrough && "variant" in flag.fallthrough ? flag.fallthrough.variant : flag.defaultVariant;
  if (flag.fallthrough && variant && !results.get(variant, "STATIC")) {
    issues.push({ path: `${path}.fallthrough.variant`, message: `unknown variant ${JSON.stringify(variant)}` });
  }
  return variant ? (results.get(variant, "STATIC") ?? results.noValueDefault) : results.noValueDefault;
}

function nativeDecide(
  flag: Flag,
  results: FlagResults,
  defaultResult: EvaluationResult,
  env: FlagCompileEnv,
  state: PathCompileState,
  issues: Issue[],
  path: string,
): { decide: Decide; parts: ShapeParts } {
  const targets = flag.targets ?? [];
  const rules = flag.rules ?? [];

  const nativeEnv = {
    segments: env.segments,
    keyCache: env.keyCache,
    state,
    issues,
    segmentPreds: new Map<string, Pred>(),
    segmentStack: [] as string[],
    stringIds: env.stringIds,
    bigKeys: env.bigKeys,
  };
  const byTarget = new Map<string, EvaluationResult>();
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    const r = results.get(t.variant, "TARGETING_MATCH");
    if (!r)
      issues.push({ path: `${path}.targets[${i}].variant`, message: `unknown variant ${JSON.stringify(t.variant)}` });
    else for (const v of t.values ?? []) if (!byTarget.has(v)) byTarget.set(v, r);
  }
  const n = rules.length;
  const whens: Pred[] = [];
  const fixed: Array<EvaluationResult | undefined> = [];
  const fns: Array<ServeFn | undefined> = [];
  const ids: Array<string | undefined> = [];
  let allFixed = true;
  for (let i = 0; i < n; i++) {
    const rule = rules[i]!;
    whens.push(compileCondition(rule.when, nativeEnv, `${path}.rules[${i}].when`));
    const s = compileServe(rule.serve, results, "TARGETING_MATCH", state, issues, `${path}.rules[${i}].serve`);
    fixed.push(s.fixed);
    fns.push(s.fn);
    if (s.fixed === undefined) allFixed = false;
    ids.push(rule.id);
  }
  const fall = flag.fallthrough
    ? compileServe(flag.fallthrough, results, "DEFAULT", state, issues, `${path}.fallthrough`)
    : undefined;
  const fallthroughFixed = fall?.fixed;
  const fallthroughFn = fall?.fn;

  if (byTarget.size === 0 && allFixed && n <= 2) {
    const firstWhen = whens[0],
      firstResult = fixed[0],
      secondWhen = whens[1],
      secondResult = fixed[1];
    const parts: ShapeParts = {
      shape: n === 0 ? Shape.Fallthrough : n === 1 ? Shape.OneRule : Shape.TwoRules,
      firstWhen,
      firstResult,
      secondWhen,
      secondResult,
      fallthroughFixed,
      fallthroughFn,
    };
    if (n === 0) return { decide: fallthroughOnly(fallthroughFixed, fallthroughFn, defaultResult), parts };
    if (n === 1)
      return {
        decide: oneRule(firstWhen!, firstResult!, ids[0], fallthroughFixed, fallthroughFn, defaultResult),
        parts,
      };
    return {
      decide: twoRules(
        firstWhen!,
        firstResult!,
        ids[0],
        secondWhen!,
        secondResult!,
        ids[1],
        fallthroughFixed,
        fallthroughFn,
        defaultResult,
      ),
      parts,
    };
  }
  return {
    decide: generalDecide(
      byTarget.size > 0 ? byTarget : undefined,
      whens,
      fixed,
      fns,
      ids,
      fallthroughFixed,
      fallthroughFn,
      defaultResult,
    ),
    parts: GENERAL,
  };
}

function traceRule(trace: Explanation, i: number, id: string | undefined): void {
  trace.step = "rule";
  trace.ruleIndex = i;
  if (id !== undefined) trace.ruleId = id;
}

// The specialised shapes below repeat the fallthrough lines instead of calling a helper: each
// call saved is a measurable share of a 20–80 ns evaluation.

function fallthroughOnly(
  fallthroughFixed: EvaluationResult | undefined,
  fallthroughFn: ServeFn | undefined,
  def: EvaluationResult,
): Decide {
  return (ctx, rt) => {
    const r = fallthroughFn === undefined ? fallthroughFixed : fallthroughFn(ctx, rt);
    if (rt.trace) rt.trace.step = r ? "fallthrough" : "default";
    return r ?? def;
  };
}

function oneRule(
  firstWhen: Pred,
  firstResult: EvaluationResult,
  firstId: string | undefined,
  fallthroughFixed: EvaluationResult | undefined,
  fallthroughFn: ServeFn | undefined,
  def: EvaluationResult,
): Decide {
  return (ctx, rt) => {
    if (firstWhen(ctx, rt)) {
      if (rt.trace) traceRule(rt.trace, 0, firstId);
      return firstResult;
    }
    const r = fallthroughFn === undefined ? fallthroughFixed : fallthroughFn(ctx, rt);
    if (rt.trace) rt.trace.step = r ? "fallthrough" : "default";
    return r ?? def;
  };
}

function twoRules(
  firstWhen: Pred,
  firstResult: EvaluationResult,
  firstId: string | undefined,
  secondWhen: Pred,
  secondResult: EvaluationResult,
  secondId: string | undefined,
  fallthroughFixed: EvaluationResult | undefined,
  fallthroughFn: ServeFn | undefined,
  def: EvaluationResult,
): Decide {
  return (ctx, rt) => {
    if (firstWhen(ctx, rt)) {
      if (rt.trace) traceRule(rt.trace, 0, firstId);
      return firstResult;
    }
    if (secondWhen(ctx, rt)) {
      if (rt.trace) traceRule(rt.trace, 1, secondId);
      return secondResult;
    }
    const r = fallthroughFn === undefined ? fallthroughFixed : fallthroughFn(ctx, rt);
    if (rt.trace) rt.trace.step = r ? "fallthrough" : "default";
    return r ?? def;
  };
}

function generalDecide(
  byTarget: ReadonlyMap<string, EvaluationResult> | undefined,
  whens: readonly Pred[],
  fixed: ReadonlyArray<EvaluationResult | undefined>,
  fns: ReadonlyArray<ServeFn | undefined>,
  ids: ReadonlyArray<string | undefined>,
  fallthroughFixed: EvaluationResult | undefined,
  fallthroughFn: ServeFn | undefined,
  def: EvaluationResult,
): Decide {
  const n = whens.length;
  return (ctx, rt) => {
    if (byTarget !== undefined) {
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
        if (rt.trace) traceRule(rt.trace, i, ids[i]);
        const fn = fns[i];
        const r = fn === undefined ? fixed[i] : fn(ctx, rt);
        if (r) return r;
        if (rt.trace) rt.trace.detail = "rollout without a bucketing value: default variant";
        return def;
      }
    }
    const r = fallthroughFn === undefined ? fallthroughFixed : fallthroughFn(ctx, rt);
    if (rt.trace) rt.trace.step = r ? "fallthrough" : "default";
    return r ?? def;
  };
}

function withPrerequisites(
  flag: Flag,
  body: Decide,
  defaultResult: EvaluationResult,
  evaluateFlag: EvaluateFlag,
): Decide {
  return prerequisitesDecide(
    (flag.prerequisites ?? []).map((p) => [p.flag, p.variant] as const),
    body,
    defaultResult,
    evaluateFlag,
  );
}

function prerequisitesDecide(
  prereqs: ReadonlyArray<readonly [string, string]>,
  body: Decide,
  defaultResult: EvaluationResult,
  evaluateFlag: EvaluateFlag,
): Decide {
  return (ctx, rt) => {
    // A prerequisite's own explanation must not overwrite this flag's.
    const inner: Runtime = rt.trace ? { now: rt.now, trace: undefined } : rt;
    for (const [key, expected] of prereqs) {
      const r = evaluateFlag(key, ctx, inner);
      if (r.variant !== expected || r.value === undefined) {
        if (rt.trace) {
          const trace: Explanation = rt.trace;
          trace.step = "prerequisite";
          trace.prerequisite =
            r.variant === undefined ? { flag: key, expected } : { flag: key, expected, got: r.variant };
          trace.detail = `prerequisite ${key} is not ${expected}`;
        }
        return defaultResult;
      }
    }
    return body(ctx, rt);
  };
}
