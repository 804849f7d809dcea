/**
 * A compiled environment answering evaluations: flag lookup, single evaluation (explanations,
 * typed resolution) and the bulk loop. Built by compile.ts once the document validated, with
 * every flag compiled; or by lazy-compile.ts with flags compiled on first use (a cold isolate
 * answers its first evaluation without compiling the other 9,999 flags).
 * @module
 */
import type {
  CompiledEnvironment,
  EvaluateOptions,
  EvaluationContext,
  EvaluationResult,
  Explanation,
} from "./evaluation-types";
import { FlagImpl, Shape } from "./flag";
import type { Metadata } from "./model";
import { NO_RUNTIME, type Runtime } from "./runtime";

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});

/** Flags compiled on demand (lazy-compile.ts). Each call registers what it compiled in `into`. */
export interface FlagSupply {
  /** The flag, compiled with the prerequisites it needs; undefined for a key the environment lacks. */
  compile(key: string, into: Map<string, FlagImpl>): FlagImpl | undefined;
  /** Every flag in definition order (bulk evaluation needs them all). */
  compileAll(into: Map<string, FlagImpl>): readonly FlagImpl[];
}

export class EnvironmentEvaluator implements CompiledEnvironment {
  private readonly byKey: Map<string, FlagImpl>;
  private all: readonly FlagImpl[] | undefined;
  private clientList: readonly FlagImpl[] | undefined = undefined;
  private anyTimeDependent: boolean | undefined = undefined;

  constructor(
    flags: readonly FlagImpl[] | FlagSupply,
    private readonly docMetadata: Readonly<Metadata>,
  ) {
    if (Array.isArray(flags)) {
      this.all = flags;
      this.byKey = new Map(flags.map((f) => [f.key, f]));
      this.supply = undefined;
    } else {
      this.all = undefined;
      this.byKey = new Map();
      this.supply = flags as FlagSupply;
    }
  }

  private readonly supply: FlagSupply | undefined;

  /** Every flag, compiling those not compiled yet. */
  get flags(): readonly FlagImpl[] {
    return (this.all ??= this.supply!.compileAll(this.byKey));
  }

  get timeDependent(): boolean {
    return (this.anyTimeDependent ??= this.flags.some((f) => f.timeDependent));
  }

  private get clientFlags(): readonly FlagImpl[] {
    return (this.clientList ??= this.flags.filter((f) => f.clientVisible));
  }

  // The flag asked for last: callers tend to evaluate the same flag again and again, and comparing
  // the key is cheaper than a Map lookup (an equal string from another request matches too).
  private lastKey: string | undefined = undefined;
  private lastFlag: FlagImpl | undefined = undefined;

  get(key: string): FlagImpl | undefined {
    if (key === this.lastKey) return this.lastFlag;
    const flag = this.byKey.get(key) ?? (this.all === undefined ? this.supply!.compile(key, this.byKey) : undefined);
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
    return {
      key,
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
      errorMessage: `flag '${key}' not found`,
      metadata: this.docMetadata,
    };
  }

  evaluate(key: string, context: EvaluationContext, options?: EvaluateOptions): EvaluationResult {
    const flag = this.get(key);
    if (!flag) return this.notFound(key);
    const ctx = context !== null && typeof context === "object" ? context : EMPTY_CONTEXT;
    if (options === undefined) {
      return flag.run(ctx, flag.timeDependent ? { now: Date.now(), trace: undefined } : NO_RUNTIME);
    }
    const trace: Explanation | undefined = options.explain ? { step: "" } : undefined;
    const rt: Runtime =
      flag.timeDependent || trace
        ? { now: flag.timeDependent ? (options.now ?? Date.now()) : options.now, trace }
        : NO_RUNTIME;
    let r = flag.run(ctx, rt);
    const expected = options.expectedType;
    if (expected !== undefined && r.value !== undefined) {
      const want = expected === "integer" || expected === "float" ? "number" : expected;
      // flagd-core's typed resolution compares typeof the value.
      if (typeof r.value !== want) {
        r = flag.results.error(
          "TYPE_MISMATCH",
          `Evaluated type of the flag ${key} does not match. Expected ${want}, got ${typeof r.value}`,
        );
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
          if (f.firstWhen!(ctx, rt)) r = f.firstResult;
          break;
        case Shape.TwoRules:
          if (f.firstWhen!(ctx, rt)) r = f.firstResult;
          else if (f.secondWhen!(ctx, rt)) r = f.secondResult;
          break;
        case Shape.Fallthrough:
          break;
        default:
          out[i] = f.run(ctx, rt);
          continue;
      }
      if (r === undefined) {
        const fn = f.fallthroughFn;
        r = (fn === undefined ? f.fallthroughFixed : fn(ctx, rt)) ?? f.defaultResult;
      }
    }
    out[i] = r;
  }
}
