/**
 * @openfeature/flagd-core 4.0.1 in its default compiled mode (json-logic-engine builds each
 * targeting rule into a function) or, as an option, its interpreter mode (the one edge runtimes
 * without `new Function` must use).
 * @module
 */
import { FlagdCore } from "@openfeature/flagd-core";
import type { EvaluationContext } from "@openfeature/core";
import { consume, type LogicalCondition, type LogicalFlag, type LogicalServe, type Workload } from "../workloads";
import type { BenchEngine } from "./engine";

function logic(c: LogicalCondition, segments: Workload["segments"]): unknown {
  if ("segment" in c) {
    const seg = segments.find((s) => s.key === c.segment)!;
    // flagd has no segments: a targeting-key list is the documented way to target a user list.
    return { in: [{ var: "targetingKey" }, seg.included] };
  }
  switch (c.op) {
    case "endsWith":
      return c.values.length === 1
        ? { ends_with: [{ var: c.attr }, c.values[0]] }
        : { or: c.values.map((v) => ({ ends_with: [{ var: c.attr }, v] })) };
    case "in":
      return { in: [{ var: c.attr }, c.values] };
    case "equals":
      return { "==": [{ var: c.attr }, c.values[0]] };
    case "gt":
      return { ">": [{ var: c.attr }, c.value] };
  }
}

function serveLogic(s: LogicalServe): unknown {
  return "variant" in s ? s.variant : { fractional: s.rollout.map(([v, w]) => [v, w]) };
}

/** flagd JSON targeting for a logical flag, or undefined for a static flag. */
export function toFlagdTargeting(f: LogicalFlag, segments: Workload["segments"]): unknown {
  const fallthrough =
    "variant" in f.fallthrough && f.fallthrough.variant === f.defaultVariant ? null : serveLogic(f.fallthrough);
  if (f.rules.length === 0) return fallthrough === null ? undefined : fallthrough;
  const args: unknown[] = [];
  for (const r of f.rules) args.push(logic(r.when, segments), r.variant);
  // A null branch makes flagd serve the default variant with reason DEFAULT, as a static fallthrough should.
  args.push(fallthrough);
  return { if: args };
}

export function toFlagdConfig(w: Pick<Workload, "flags" | "segments">): string {
  const flags: Record<string, unknown> = {};
  for (const f of w.flags) {
    const targeting = toFlagdTargeting(f, w.segments);
    flags[f.key] = {
      state: "ENABLED",
      variants: f.variants,
      defaultVariant: f.defaultVariant,
      ...(targeting === undefined ? {} : { targeting }),
    };
  }
  return JSON.stringify({ flags });
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

export function createFlagdCore(w: Workload, interpreter = false): FlagdCore {
  const core = new FlagdCore(undefined, silent, { disableDynamicCodeGeneration: interpreter });
  core.setConfigurations(toFlagdConfig(w));
  return core;
}

export function flagdFactory(interpreter: boolean) {
  return async (w: Workload): Promise<BenchEngine<EvaluationContext>> => {
    const core = createFlagdCore(w, interpreter);
    const types = new Map(w.flags.map((f) => [f.key, f.type] as const));
    // The typed resolver an OpenFeature provider would call for the flag's type.
    const resolve = (key: string, ctx: EvaluationContext) => {
      switch (types.get(key)) {
        case "boolean":
          return core.resolveBooleanEvaluation(key, false, ctx, silent);
        case "string":
          return core.resolveStringEvaluation(key, "", ctx, silent);
        case "number":
          return core.resolveNumberEvaluation(key, 0, ctx, silent);
        default:
          return core.resolveObjectEvaluation(key, {}, ctx, silent);
      }
    };
    return {
      name: interpreter ? "flagd-core (interp.)" : "flagd-core",
      notes: interpreter
        ? "FlagdCore with disableDynamicCodeGeneration: true (interpreter, as on Workers); same API"
        : "FlagdCore default (compiled json-logic, new Function); setConfigurations(flagd JSON); resolve<Type>Evaluation(key, default, ctx); resolveAll(ctx)",
      context: (c) => ({ ...c }),
      runOne(key, ctxs, start, n) {
        const mask = ctxs.length - 1;
        let sum = 0;
        for (let i = 0; i < n; i++) sum += consume(resolve(key, ctxs[(start + i) & mask]!).value);
        return sum;
      },
      runAll(ctxs, start, n) {
        const mask = ctxs.length - 1;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const results = core.resolveAll(ctxs[(start + i) & mask]!, silent);
          for (let j = 0; j < results.length; j++) sum += consume(results[j]!.value);
        }
        return sum;
      },
      value: async (key, ctx) => resolve(key, ctx).value,
      variant: async (key, ctx) => resolve(key, ctx).variant,
      close: async () => {},
    };
  };
}
