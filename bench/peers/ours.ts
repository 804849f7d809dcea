/**
 * edgeflags' own engine: the workload as a native EnvironmentDoc, compiled once.
 * @module
 */
import { compileEnvironment } from "../../src/core/compile";
import type { Condition, EnvironmentDoc, Flag, Serve } from "../../src/core/model";
import type { CompiledEnvironment, EvaluationContext } from "../../src/core/evaluation-types";
import { consume, type LogicalCondition, type LogicalFlag, type LogicalServe, type Workload } from "../workloads";
import type { BenchEngine } from "./engine";

function condition(c: LogicalCondition): Condition {
  if ("segment" in c) return { segment: c.segment };
  if (c.op === "gt") return { attribute: c.attr, op: "gt", values: [c.value] };
  return { attribute: c.attr, op: c.op, values: c.values };
}

function serve(s: LogicalServe): Serve {
  if ("variant" in s) return { variant: s.variant };
  return { rollout: { variants: s.rollout.map(([variant, weight]) => ({ variant, weight })) } };
}

export function toNativeFlag(f: LogicalFlag): Flag {
  return {
    key: f.key,
    type: f.type,
    variants: f.variants,
    defaultVariant: f.defaultVariant,
    enabled: true,
    clientVisible: false,
    rules: f.rules.map((r) => ({ when: condition(r.when), serve: { variant: r.variant } })),
    fallthrough: serve(f.fallthrough),
  };
}

export function toNativeDoc(w: Pick<Workload, "flags" | "segments">): EnvironmentDoc {
  return {
    flags: w.flags.map(toNativeFlag),
    segments: w.segments.map((s) => ({ key: s.key, included: s.included, excluded: [], rules: [] })),
  };
}

export function compileOurs(doc: EnvironmentDoc): CompiledEnvironment {
  const compiled = compileEnvironment(doc);
  if (!compiled.ok) throw new Error("edgeflags compile failed: " + JSON.stringify(compiled.errors.slice(0, 5)));
  return compiled.value;
}

export async function createOurs(w: Workload): Promise<BenchEngine<EvaluationContext>> {
  const env = compileOurs(toNativeDoc(w));
  return {
    name: "edgeflags",
    notes: "compileEnvironment(native EnvironmentDoc); evaluate(key, ctx).value; bulk = evaluateAll(ctx)",
    context: (c) => ({ ...c }),
    runOne(key, ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += consume(env.evaluate(key, ctxs[(start + i) & mask]!).value);
      return sum;
    },
    runAll(ctxs, start, n) {
      const mask = ctxs.length - 1;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const results = env.evaluateAll(ctxs[(start + i) & mask]!);
        for (let j = 0; j < results.length; j++) sum += consume(results[j]!.value);
      }
      return sum;
    },
    value: async (key, ctx) => env.evaluate(key, ctx).value,
    variant: async (key, ctx) => env.evaluate(key, ctx).variant,
    close: async () => {},
  };
}
