/**
 * The evaluation engine's entry point: an EnvironmentDoc compiled once into closures that answer
 * evaluations without parsing, copying the context or allocating on the common path.
 *
 * Validation happens here, with JSON paths in every issue (`flags.checkout.rules[2].when`):
 * default/target/rule/rollout variants exist, variant values match the flag type, prerequisites
 * name existing flags and variants and form no cycle, segments exist and form no cycle, regexes
 * pass the safety check, JSON Logic uses known operators and resolvable `$ref`s.
 *
 * Two front-ends, one engine: flagd JSON Logic (logic/) and native conditions (native/) compile
 * to the same closure shape (runtime.ts) and share attribute reads, semver and bucketing.
 * @module
 */
import type { CompiledEnvironment, EvaluateOptions } from "./engine";
import { FLAG_TYPES, type EnvironmentDoc, type Flag, type FlagType, type Metadata, type Segment } from "./model";
import { fail, ok, type EvaluationContext, type EvaluationResult, type Explanation, type Issue, type Result } from "./result";
import { FlagImpl, Shape, type FlagCompileEnv } from "./flag";
import { NO_RUNTIME, type Runtime } from "./runtime";
import type { SegmentKeys } from "./native/condition";

export interface CompileOptions {
  /**
   * What a flag whose JSON Logic targeting does not compile (unknown operator, `$ref` to a missing
   * evaluator, a constant expression that fails) does to the environment.
   * - "reject" (default): it is a compile error, listed with the others.
   * - "parse-error": the rest compiles and that flag answers ERROR/PARSE_ERROR, as flagd does
   *   (the flagd testbed expects this; the edge can use it to stay up on a bad snapshot).
   */
  invalidTargeting?: "reject" | "parse-error";
}

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});

function typeOk(type: FlagType, value: unknown): boolean {
  switch (type) {
    case "boolean": return typeof value === "boolean";
    case "string": return typeof value === "string";
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "object": return typeof value === "object" && value !== null;
  }
}

function validateFlagShape(flag: Flag, path: string, issues: Issue[], flagsByKey: ReadonlyMap<string, Flag>): void {
  if (!FLAG_TYPES.includes(flag.type)) issues.push({ path: `${path}.type`, message: `type must be one of ${FLAG_TYPES.join(", ")}` });
  const variants = flag.variants ?? {};
  if (typeof variants !== "object" || Object.keys(variants).length === 0) {
    issues.push({ path: `${path}.variants`, message: "a flag needs at least one variant" });
  }
  for (const [name, value] of Object.entries(variants)) {
    if (FLAG_TYPES.includes(flag.type) && !typeOk(flag.type, value)) {
      issues.push({ path: `${path}.variants.${name}`, message: `value must be of type ${flag.type}` });
    }
  }
  if (flag.defaultVariant != null && !Object.prototype.hasOwnProperty.call(variants, flag.defaultVariant)) {
    issues.push({ path: `${path}.defaultVariant`, message: `unknown variant ${JSON.stringify(flag.defaultVariant)}` });
  }
  (flag.prerequisites ?? []).forEach((p, i) => {
    const other = flagsByKey.get(p.flag);
    if (!other) issues.push({ path: `${path}.prerequisites[${i}].flag`, message: `unknown flag ${JSON.stringify(p.flag)}` });
    else if (!Object.prototype.hasOwnProperty.call(other.variants ?? {}, p.variant)) {
      issues.push({ path: `${path}.prerequisites[${i}].variant`, message: `flag ${p.flag} has no variant ${JSON.stringify(p.variant)}` });
    }
  });
}

/** Prerequisite cycles, each named in order (`a → b → a`). */
function prerequisiteCycles(flags: readonly Flag[], byKey: ReadonlyMap<string, Flag>): Issue[] {
  const issues: Issue[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (key: string): void => {
    const s = state.get(key);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(key)), key];
      issues.push({ path: `flags.${cycle[0]}.prerequisites`, message: `prerequisite cycle: ${cycle.join(" → ")}` });
      return;
    }
    state.set(key, "visiting");
    stack.push(key);
    for (const p of byKey.get(key)?.prerequisites ?? []) if (byKey.has(p.flag)) visit(p.flag);
    stack.pop();
    state.set(key, "done");
  };
  for (const f of flags) visit(f.key);
  return issues;
}

class Environment implements CompiledEnvironment {
  readonly timeDependent: boolean;
  private readonly byKey: Map<string, FlagImpl>;
  private readonly clientFlags: readonly FlagImpl[];

  constructor(readonly flags: readonly FlagImpl[], private readonly docMetadata: Readonly<Metadata>) {
    this.byKey = new Map(flags.map((f) => [f.key, f]));
    this.clientFlags = flags.filter((f) => f.clientVisible);
    this.timeDependent = flags.some((f) => f.timeDependent);
  }

  // The flag asked for last: callers tend to evaluate the same flag again and again, and comparing
  // the key is cheaper than a Map lookup (an equal string from another request matches too).
  private lastKey: string | undefined = undefined;
  private lastFlag: FlagImpl | undefined = undefined;

  get(key: string): FlagImpl | undefined {
    if (key === this.lastKey) return this.lastFlag;
    const flag = this.byKey.get(key);
    if (flag) {
      this.lastKey = key;
      this.lastFlag = flag;
    }
    return flag;
  }

  /** Used by prerequisites: the other flag's plain answer. */
  evaluateInternal(key: string, ctx: EvaluationContext, rt: Runtime): EvaluationResult {
    const flag = this.byKey.get(key);
    return flag ? flag.run(ctx, rt) : this.notFound(key);
  }

  private notFound(key: string): EvaluationResult {
    return { key, reason: "ERROR", errorCode: "FLAG_NOT_FOUND", errorMessage: `flag '${key}' not found`, metadata: this.docMetadata };
  }

  evaluate(key: string, context: EvaluationContext, options?: EvaluateOptions): EvaluationResult {
    const flag = this.get(key);
    if (!flag) return this.notFound(key);
    const ctx = context !== null && typeof context === "object" ? context : EMPTY_CONTEXT;
    if (options === undefined) {
      return flag.run(ctx, flag.timeDependent ? { now: Date.now(), trace: undefined } : NO_RUNTIME);
    }
    const trace: Explanation | undefined = options.explain ? { step: "" } : undefined;
    const rt: Runtime = flag.timeDependent || trace
      ? { now: flag.timeDependent ? options.now ?? Date.now() : options.now, trace }
      : NO_RUNTIME;
    let r = flag.run(ctx, rt);
    const expected = options.expectedType;
    if (expected !== undefined && r.value !== undefined) {
      const want = expected === "integer" || expected === "float" ? "number" : expected;
      // flagd-core's typed resolution compares typeof the value.
      if (typeof r.value !== want) {
        r = flag.results.error("TYPE_MISMATCH", `Evaluated type of the flag ${key} does not match. Expected ${want}, got ${typeof r.value}`);
        if (trace) trace.step = "error";
      }
    }
    return trace ? { ...r, explanation: trace } : r;
  }

  evaluateAll(context: EvaluationContext, options?: { clientOnly?: boolean; now?: number }): EvaluationResult[] {
    const ctx = context !== null && typeof context === "object" ? context : EMPTY_CONTEXT;
    const list = options?.clientOnly ? this.clientFlags : this.flags;
    // One clock reading for the whole answer.
    const rt: Runtime = this.timeDependent ? { now: options?.now ?? Date.now(), trace: undefined } : NO_RUNTIME;
    const out = new Array<EvaluationResult>(list.length);
    try {
      bulk(list, ctx, rt, out);
    } catch {
      // A decision threw (JSON Logic): redo the answer flag by flag, each guarded by `run`.
      for (let i = 0; i < list.length; i++) out[i] = list[i]!.run(ctx, rt);
    }
    return out;
  }
}

/**
 * Every flag of `list` for one context, the hot loop of bulk evaluation: fixed answers without a
 * call, the common native shapes from their parts (monomorphic field reads instead of one
 * megamorphic closure call per flag), others through `run`. Trace-free: `rt.trace` is unset here.
 */
function bulk(list: readonly FlagImpl[], ctx: EvaluationContext, rt: Runtime, out: EvaluationResult[]): void {
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    let r = f.fixed;
    if (r === undefined) {
      switch (f.shape) {
        case Shape.OneRule:
          if (f.w0!(ctx, rt)) r = f.r0;
          break;
        case Shape.TwoRules:
          if (f.w0!(ctx, rt)) r = f.r0;
          else if (f.w1!(ctx, rt)) r = f.r1;
          break;
        case Shape.Fallthrough:
          break;
        default:
          out[i] = f.run(ctx, rt);
          continue;
      }
      if (r === undefined) {
        const fn = f.fallFn;
        r = (fn === undefined ? f.fallFixed : fn(ctx, rt)) ?? f.defaultResult;
      }
    }
    out[i] = r;
  }
}

/** Compile an environment, or list every problem with its path. Evaluation of the result never throws. */
export function compileEnvironment(doc: EnvironmentDoc, options: CompileOptions = {}): Result<CompiledEnvironment> {
  try {
    return compileChecked(doc, options);
  } catch (e) {
    // Input the validators did not foresee (e.g. a malformed document that skipped the schema).
    return fail([{ path: "", message: `cannot compile: ${(e as Error)?.message ?? String(e)}` }]);
  }
}

function compileChecked(doc: EnvironmentDoc, options: CompileOptions): Result<CompiledEnvironment> {
  const issues: Issue[] = [];
  const flags: Flag[] = Array.isArray(doc?.flags) ? doc.flags : [];
  if (!Array.isArray(doc?.flags)) issues.push({ path: "flags", message: "flags must be an array" });
  const segmentsList: Segment[] = Array.isArray(doc?.segments) ? doc.segments : [];

  const flagsByKey = new Map<string, Flag>();
  flags.forEach((f, i) => {
    if (typeof f?.key !== "string") issues.push({ path: `flags[${i}].key`, message: "a flag needs a key" });
    else if (flagsByKey.has(f.key)) issues.push({ path: `flags[${i}].key`, message: `duplicate flag key ${JSON.stringify(f.key)}` });
    else flagsByKey.set(f.key, f);
  });
  const segments = new Map<string, Segment>();
  segmentsList.forEach((s, i) => {
    if (segments.has(s.key)) issues.push({ path: `segments[${i}].key`, message: `duplicate segment key ${JSON.stringify(s.key)}` });
    else segments.set(s.key, s);
  });
  for (const f of flagsByKey.values()) validateFlagShape(f, `flags.${f.key}`, issues, flagsByKey);
  issues.push(...prerequisiteCycles([...flagsByKey.values()], flagsByKey));
  if (issues.length > 0) return fail(issues);

  let env: Environment | undefined;
  const compileEnv: FlagCompileEnv = {
    segments,
    keyCache: new Map<string, SegmentKeys>(),
    stringIds: new Map(),
    evaluators: doc.evaluators,
    docMetadata: Object.freeze({ ...(doc.metadata ?? {}) }),
    evaluateFlag: (key, ctx, rt) => env!.evaluateInternal(key, ctx, rt),
    invalidTargeting: options.invalidTargeting ?? "reject",
  };
  const compiled = [...flagsByKey.values()].map((f) => new FlagImpl(f, compileEnv, issues, `flags.${f.key}`));
  // Every segment is checked, including ones no flag uses yet.
  for (const s of segments.values()) {
    new FlagImpl(
      { key: `segment-check`, type: "boolean", variants: { on: true }, defaultVariant: "on", enabled: true, clientVisible: false, rules: [{ when: { segment: s.key }, serve: { variant: "on" } }] },
      compileEnv, issues, `segments.${s.key}`,
    );
  }
  if (issues.length > 0) return fail(dedupe(issues));

  // A flag whose prerequisite reads the clock reads it too.
  const byKey = new Map(compiled.map((f) => [f.key, f]));
  const settle = (f: FlagImpl, seen: Set<string>): boolean => {
    if (seen.has(f.key)) return f.timeDependent;
    seen.add(f.key);
    for (const p of f.prerequisiteKeys) if (settle(byKey.get(p)!, seen)) f.timeDependent = true;
    return f.timeDependent;
  };
  const seen = new Set<string>();
  for (const f of compiled) settle(f, seen);

  env = new Environment(compiled, compileEnv.docMetadata ?? Object.freeze({}));
  return ok(env);
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = i.path + "\u0000" + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
