/**
 * The evaluation engine's entry point: an EnvironmentDoc validated and compiled once into closures
 * (evaluator.ts) that answer evaluations without parsing, copying the context or allocating on
 * the common path.
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
import type { CompiledEnvironment } from "./evaluation-types";
import { EnvironmentEvaluator } from "./evaluator";
import { FLAG_TYPES, type EnvironmentDoc, type Flag, type FlagType, type Segment } from "./model";
import { fail, ok, type Issue, type Result } from "./result";
import { FlagImpl, type FlagCompileEnv } from "./flag";
import { checkJsonShape, DOCUMENT_LIMITS } from "./limits";
import type { SegmentKeys } from "./native/condition";
import type { BigKeyLookup } from "./wire/big-segments";

export interface CompileOptions {
  /**
   * What a flag whose JSON Logic targeting does not compile (unknown operator, `$ref` to a missing
   * evaluator, a constant expression that fails) does to the environment.
   * - "reject" (default): it is a compile error, listed with the others.
   * - "parse-error": the rest compiles and that flag answers ERROR/PARSE_ERROR, as flagd does
   *   (the flagd testbed expects this; the edge can use it to stay up on a bad snapshot).
   */
  invalidTargeting?: "reject" | "parse-error";
  /**
   * Membership in big segments' batch-added keys (core/wire/big-segments.ts): the edge answers it
   * from the shards it holds. Absent: those keys match nobody (the keys are not in the document).
   */
  bigKeys?: BigKeyLookup;
}

function typeOk(type: FlagType, value: unknown): boolean {
  switch (type) {
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "object":
      return typeof value === "object" && value !== null;
  }
}

export function validateFlagShape(
  flag: Flag,
  path: string,
  issues: Issue[],
  flagsByKey: ReadonlyMap<string, Flag>,
): void {
  if (!FLAG_TYPES.includes(flag.type))
    issues.push({ path: `${path}.type`, message: `type must be one of ${FLAG_TYPES.join(", ")}` });
  const variants = flag.variants ?? {};
  if (typeof variants !== "object" || Object.keys(variants).length === 0) {
    issues.push({ path: `${path}.variants`, message: "a flag needs at least one variant" });
  }
  for (const [name, value] of Object.entries(variants)) {
    // Variant values are the one free-form JSON of a flag: bounded before frozenJson walks them.
    const shape = checkJsonShape(value, DOCUMENT_LIMITS, `${path}.variants.${name}`);
    if (shape) issues.push(shape);
    else if (FLAG_TYPES.includes(flag.type) && !typeOk(flag.type, value)) {
      issues.push({ path: `${path}.variants.${name}`, message: `value must be of type ${flag.type}` });
    }
  }
  if (flag.defaultVariant != null && !Object.prototype.hasOwnProperty.call(variants, flag.defaultVariant)) {
    issues.push({ path: `${path}.defaultVariant`, message: `unknown variant ${JSON.stringify(flag.defaultVariant)}` });
  }
  (flag.prerequisites ?? []).forEach((p, i) => {
    const other = flagsByKey.get(p.flag);
    if (!other)
      issues.push({ path: `${path}.prerequisites[${i}].flag`, message: `unknown flag ${JSON.stringify(p.flag)}` });
    else if (!Object.prototype.hasOwnProperty.call(other.variants ?? {}, p.variant)) {
      issues.push({
        path: `${path}.prerequisites[${i}].variant`,
        message: `flag ${p.flag} has no variant ${JSON.stringify(p.variant)}`,
      });
    }
  });
}

/** Prerequisite cycles, each named in order (`a → b → a`). */
export function prerequisiteCycles(flags: readonly Flag[], byKey: ReadonlyMap<string, Flag>): Issue[] {
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
    else if (flagsByKey.has(f.key))
      issues.push({ path: `flags[${i}].key`, message: `duplicate flag key ${JSON.stringify(f.key)}` });
    else flagsByKey.set(f.key, f);
  });
  const segments = new Map<string, Segment>();
  segmentsList.forEach((s, i) => {
    if (segments.has(s.key))
      issues.push({ path: `segments[${i}].key`, message: `duplicate segment key ${JSON.stringify(s.key)}` });
    else segments.set(s.key, s);
  });
  for (const f of flagsByKey.values()) validateFlagShape(f, `flags.${f.key}`, issues, flagsByKey);
  issues.push(...prerequisiteCycles([...flagsByKey.values()], flagsByKey));
  if (issues.length > 0) return fail(issues);

  let env: EnvironmentEvaluator | undefined;
  const compileEnv = flagCompileEnv(segments, doc, options, (key, ctx, rt) => env!.evaluateInternal(key, ctx, rt));
  const compiled = [...flagsByKey.values()].map((f) => new FlagImpl(f, compileEnv, issues, `flags.${f.key}`));
  // Every segment is checked, including ones no flag uses yet.
  for (const s of segments.values()) {
    new FlagImpl(
      {
        key: `segment-check`,
        type: "boolean",
        variants: { on: true },
        defaultVariant: "on",
        enabled: true,
        clientVisible: false,
        rules: [{ when: { segment: s.key }, serve: { variant: "on" } }],
      },
      compileEnv,
      issues,
      `segments.${s.key}`,
    );
  }
  if (issues.length > 0) return fail(dedupe(issues));

  const byKey = new Map(compiled.map((f) => [f.key, f]));
  settleTimeDependence(compiled, byKey);

  env = new EnvironmentEvaluator(compiled, compileEnv.docMetadata ?? Object.freeze({}));
  return ok(env);
}

/**
 * The check of a change to a few flags of a document whose version before compiled: the same
 * issues compileEnvironment would list, found by compiling only what the change can break — the
 * flags named in `touched` (changed or added; a deleted key simply names none) and the flags that
 * name one of them as a prerequisite (a variant they rely on may be gone, or a cycle closed through
 * them). Every other flag, and every segment, is as it was when the document last compiled.
 * A change to segments, evaluators or metadata, or a whole import, takes compileEnvironment.
 * Cost: one pass over the flags' prerequisite lists, plus compiling the touched flags.
 */
export function checkTouchedFlags(
  doc: EnvironmentDoc,
  touched: readonly string[],
  options: CompileOptions = {},
): Result<void> {
  try {
    const issues: Issue[] = [];
    const flagsByKey = new Map<string, Flag>();
    const seen = new Set(touched);
    const affected: Flag[] = [];
    doc.flags.forEach((f, i) => {
      if (flagsByKey.has(f.key))
        issues.push({ path: `flags[${i}].key`, message: `duplicate flag key ${JSON.stringify(f.key)}` });
      else flagsByKey.set(f.key, f);
      if (seen.has(f.key) || (f.prerequisites ?? []).some((p) => seen.has(p.flag))) affected.push(f);
    });
    for (const f of affected) validateFlagShape(f, `flags.${f.key}`, issues, flagsByKey);
    issues.push(...prerequisiteCycles(affected, flagsByKey));
    if (issues.length > 0) return fail(issues);
    const segments = new Map((doc.segments ?? []).map((seg) => [seg.key, seg]));
    const compileEnv = flagCompileEnv(segments, doc, options, () => {
      throw new Error("a check never evaluates");
    });
    for (const f of affected) new FlagImpl(f, compileEnv, issues, `flags.${f.key}`);
    return issues.length > 0 ? fail(dedupe(issues)) : ok(undefined);
  } catch (e) {
    return fail([{ path: "", message: `cannot compile: ${(e as Error)?.message ?? String(e)}` }]);
  }
}

/** What every flag of one environment compiles against (shared caches, document-level parts). */
export function flagCompileEnv(
  segments: FlagCompileEnv["segments"],
  doc: Pick<EnvironmentDoc, "metadata" | "evaluators">,
  options: CompileOptions,
  evaluateFlag: FlagCompileEnv["evaluateFlag"],
): FlagCompileEnv {
  return {
    segments,
    keyCache: new Map<string, SegmentKeys>(),
    stringIds: new Map(),
    evaluators: doc.evaluators,
    docMetadata: Object.freeze({ ...(doc.metadata ?? {}) }),
    evaluateFlag,
    invalidTargeting: options.invalidTargeting ?? "reject",
    ...(options.bigKeys ? { bigKeys: options.bigKeys } : {}),
  };
}

/**
 * A flag whose prerequisite reads the clock reads it too. `byKey` holds every prerequisite of
 * `flags` (compiled with them); flags settled before keep their answer.
 */
export function settleTimeDependence(flags: readonly FlagImpl[], byKey: ReadonlyMap<string, FlagImpl>): void {
  const settle = (f: FlagImpl, seen: Set<string>): boolean => {
    if (seen.has(f.key)) return f.timeDependent;
    seen.add(f.key);
    for (const p of f.prerequisiteKeys) if (settle(byKey.get(p)!, seen)) f.timeDependent = true;
    return f.timeDependent;
  };
  const seen = new Set<string>();
  for (const f of flags) settle(f, seen);
}

export function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = i.path + "\u0000" + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
