/**
 * What `npm run bench:sdk` evaluates through every provider: workload a's flag (email ends-with →
 * A, country in 50 codes → B, else a 50/50 rollout of B and C by targeting key) and 4,096
 * generated contexts, the same for every provider. Each provider gets the flag in its own format
 * (flagd JSON for edgeflags' import, the flagd file and OFREP; LaunchDarkly's flag JSON), all
 * translated from the one logical definition in bench/workloads.ts.
 * @module
 */
import type { EvaluationContext } from "@openfeature/server-sdk";
import {
  asParsedJson,
  expectedDecision,
  generateContexts,
  workloadA,
  type BenchContext,
  type Workload,
} from "../workloads";

export const FLAG = "checkout-variant";
/** The code default every call passes: never a variant's value, so a provider that fails shows. */
export const FALLBACK = "fallback";
/** A power of two: the timing loops index contexts with a mask. */
export const CONTEXTS = 4096;
/** Contexts every provider's answers are checked on before it is timed. */
export const CHECKED = 500;

export function sdkWorkload(): Workload {
  return asParsedJson(workloadA());
}

/** The generated contexts as an application would hold them (parsed JSON, flat strings). */
export function sdkContexts(): BenchContext[] {
  return asParsedJson(generateContexts(CONTEXTS, 5));
}

/** OpenFeature's context shape: the generated attributes as they are (targetingKey included). */
export const toEvaluationContext = (c: BenchContext): EvaluationContext => ({ ...c });

/**
 * The variant each answer names, from its value (not every provider names variants the same way:
 * LaunchDarkly's provider answers variation indexes).
 */
export function variantsOf(w: Workload, values: readonly unknown[]): Array<string | undefined> {
  const flag = w.flags.find((f) => f.key === FLAG)!;
  const byValue = new Map(Object.entries(flag.variants).map(([name, value]) => [JSON.stringify(value), name]));
  return values.map((v) => byValue.get(JSON.stringify(v)));
}

/**
 * The answers (values, in context order) that contradict the flag's definition: a rule's variant
 * where a rule matches, one of the rollout's variants otherwise (the split itself is each SDK's
 * own hashing). At most `limit` lines.
 */
export function wrongAnswers(
  w: Workload,
  contexts: readonly BenchContext[],
  values: readonly unknown[],
  limit = 5,
): string[] {
  const flag = w.flags.find((f) => f.key === FLAG)!;
  const variants = variantsOf(w, values);
  const wrong: string[] = [];
  if (values.length !== contexts.length) wrong.push(`${values.length} answers for ${contexts.length} contexts`);
  for (let i = 0; i < contexts.length && wrong.length < limit; i++) {
    const expected = expectedDecision(flag, contexts[i]!, w.segments);
    const got = variants[i];
    const ok = typeof expected === "string" ? got === expected : got !== undefined && expected.includes(got);
    if (!ok)
      wrong.push(
        `${contexts[i]!.targetingKey}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(values[i])}`,
      );
  }
  return wrong;
}
