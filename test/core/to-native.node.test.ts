/**
 * "Convert to visual rules" (src/core/flagd/to-native.ts) must not change a single answer: random
 * flagd targeting, mostly of the forms the converter accepts and some it must refuse, is imported,
 * converted where possible, and the original (JSON Logic) and converted (native rules) flags are
 * evaluated over random contexts by both compile paths. Value, variant, reason and error code must
 * be identical for every context. Refusals name the path and the reason the editor shows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { EvaluationContext } from "../../src/core/evaluation-types";
import { importFlagd } from "../../src/core/flagd/import";
import { ELSE_RULE_DESCRIPTION, toNativeRules } from "../../src/core/flagd/to-native";
import type { Flag } from "../../src/core/model";
import { COMPILERS } from "../support/compilers";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const VARIANTS = ["a", "b", "c", "true"] as const;
const word = fc.stringMatching(/^[a-z0-9@.\-]{0,6}$/);
const path = fc.constantFrom(
  "targetingKey",
  "email",
  "age",
  "country",
  "user.tier",
  "version",
  "missing",
  "tags",
  "$flagd.flagKey",
  "constructor",
);
const attr = fc.oneof(
  { weight: 4, arbitrary: path.map((p): Json => ({ var: p })) },
  { weight: 1, arbitrary: path.map((p): Json => ({ var: [p] })) },
);
const literal: fc.Arbitrary<Json> = fc.oneof(
  word,
  fc.integer({ min: -2, max: 30 }),
  fc.boolean(),
  fc.constantFrom("1", "21", "de", "gold", "flag-0"),
);
const version = fc.constantFrom("1.0.0", "2.0.0", "1.2.3", "v1.0.0", "1.2", "2.0.0-alpha", "1.0.0+build");

/** Conditions the converter accepts, nested, with a few it must refuse mixed in. */
const { cond } = fc.letrec<{ cond: Json }>((tie) => ({
  cond: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom("===", "!=="), attr, literal, fc.boolean())
        .map(([op, a, l, flip]) => ({ [op]: flip ? [l, a] : [a, l] })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(attr, fc.array(literal, { minLength: 1, maxLength: 5 }))
        .map(([a, list]) => ({ in: [a, list] })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom("starts_with", "ends_with"), attr, word)
        .map(([op, a, s]) => ({ [op]: [a, s] })),
    },
    { weight: 2, arbitrary: fc.array(tie("cond"), { minLength: 1, maxLength: 3 }).map((xs) => ({ and: xs })) },
    { weight: 2, arbitrary: fc.array(tie("cond"), { minLength: 1, maxLength: 3 }).map((xs) => ({ or: xs })) },
    { weight: 2, arbitrary: tie("cond").map((x) => ({ "!": x })) },
    { weight: 1, arbitrary: tie("cond").map((x) => ({ "!!": [x] })) },
    // Refused: coercing operators, version comparisons, substring `in`, bare attributes.
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom("==", "<", ">="), attr, literal).map(([op, a, l]) => ({ [op]: [a, l] })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(attr, fc.constantFrom("=", "<", "^"), version).map(([a, op, v]) => ({ sem_ver: [a, op, v] })),
    },
    { weight: 1, arbitrary: fc.tuple(word, attr).map(([s, a]) => ({ in: [s, a] })) },
    { weight: 1, arbitrary: attr },
  ),
}));

const variant = fc.constantFrom<Json>(...VARIANTS);
const fractional: Json = {
  fractional: [
    ["a", 50],
    ["b", 50],
  ],
};
/** An if chain: pairs of condition and variant, and an else (a variant, nothing, or a nested chain). */
const { chain } = fc.letrec<{ chain: Json }>((tie) => ({
  chain: fc
    .tuple(
      fc.array(
        fc.tuple(
          cond,
          fc.oneof({ weight: 9, arbitrary: variant }, { weight: 1, arbitrary: fc.constantFrom<Json>(null, "nope") }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      fc.oneof(
        { weight: 3, arbitrary: variant },
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: tie("chain") },
        { weight: 1, arbitrary: fc.constant(fractional) },
      ),
      fc.constantFrom("if", "?:"),
    )
    .map(([pairs, otherwise, op]) => ({ [op]: [...pairs.flat(), ...(otherwise === undefined ? [] : [otherwise])] })),
}));
const targeting = fc.oneof(
  { weight: 8, arbitrary: chain },
  { weight: 1, arbitrary: variant },
  { weight: 1, arbitrary: fc.constant(fractional) },
);

const flagGen = fc.record({
  kind: fc.constantFrom("string", "boolean", "number"),
  defaultVariant: fc.option(fc.constantFrom(...VARIANTS), { nil: undefined }),
  targeting,
});

const contextGen: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    targetingKey: fc.oneof(word, fc.constantFrom("user-1", "")),
    email: fc.oneof(word, fc.constantFrom("a@example.com", "@"), fc.integer({ min: 0, max: 3 })),
    age: fc.oneof(
      fc.integer({ min: -2, max: 30 }),
      fc.constantFrom("21", "1", "", "x"),
      fc.constant(null),
      fc.boolean(),
    ),
    country: fc.oneof(fc.constantFrom("de", "us", "", "1"), fc.constant(1), fc.constant(true)),
    user: fc.oneof(
      fc.record(
        { tier: fc.oneof(fc.constantFrom("gold", "free"), fc.integer({ min: 0, max: 2 })) },
        { noNullPrototype: true },
      ),
      fc.constantFrom("", 0, null),
    ),
    version: fc.oneof(version, fc.constantFrom(1, 2, 1.2, "bad", "")),
    tags: fc.oneof(fc.array(fc.constantFrom("a", "gold", "1"), { maxLength: 3 }), fc.constant({ a: 1 })),
    constructor: fc.oneof(word, fc.constant(undefined)),
  },
  { requiredKeys: [], noNullPrototype: true },
);

function flagdDoc(f: { kind: string; defaultVariant?: string; targeting: Json }): Record<string, unknown> {
  const variants = Object.fromEntries(
    VARIANTS.map((v, j) => [v, f.kind === "string" ? `value-${v}` : f.kind === "boolean" ? j % 2 === 0 : j * 10]),
  );
  const flag: Record<string, unknown> = { state: "ENABLED", variants, targeting: f.targeting };
  if (f.defaultVariant) flag.defaultVariant = f.defaultVariant;
  return { flags: { "flag-0": flag } };
}

/** The one flag of a flagd document, as the store holds it. */
function imported(targeting: Json, extra: Record<string, unknown> = {}): Flag {
  const doc = importFlagd({
    flags: {
      "flag-0": { state: "ENABLED", variants: { on: true, off: false }, defaultVariant: "off", targeting, ...extra },
    },
  });
  if (!doc.ok) throw new Error(JSON.stringify(doc.errors));
  return doc.value.flags[0]!;
}

describe.each(COMPILERS)("convert to visual rules (%s compile)", (_name, compile) => {
  it("answers exactly as the JSON Logic it replaces, for every generated flag it converts", () => {
    let converted = 0,
      refused = 0,
      evaluations = 0;
    fc.assert(
      fc.property(flagGen, fc.array(contextGen, { minLength: 3, maxLength: 12 }), (f, contexts) => {
        const doc = importFlagd(flagdDoc(f as never));
        expect(doc.ok).toBe(true);
        if (!doc.ok) return;
        const original = doc.value.flags[0]!;
        const result = toNativeRules(original);
        if (!result.ok) {
          refused++;
          expect(result.errors[0]!.path).toMatch(/^targeting/);
          expect(result.errors[0]!.message.length).toBeGreaterThan(10);
          return;
        }
        converted++;
        expect(result.value.targeting).toBeUndefined();
        const before = compile(doc.value, { invalidTargeting: "parse-error" });
        const after = compile({ ...doc.value, flags: [result.value] });
        expect(after.ok, JSON.stringify(!after.ok && after.errors)).toBe(true);
        if (!before.ok || !after.ok) return;
        for (const ctx of contexts) {
          const a = before.value.evaluate("flag-0", ctx, { expectedType: f.kind as "string" });
          const b = after.value.evaluate("flag-0", ctx, { expectedType: f.kind as "string" });
          const shown = (r: typeof a) => ({
            value: r.value,
            variant: r.variant,
            reason: r.reason,
            errorCode: r.errorCode,
          });
          expect(shown(b), JSON.stringify({ targeting: original.targeting, rules: result.value.rules, ctx })).toEqual(
            shown(a),
          );
          evaluations++;
        }
      }),
      { seed: 20261207, numRuns: 2000 },
    );
    console.log(`to-native: ${converted} converted, ${refused} refused, ${evaluations} evaluations compared`);
    // Not vacuous: both outcomes are common in the generated mix.
    expect(converted).toBeGreaterThan(600);
    expect(refused).toBeGreaterThan(200);
    expect(evaluations).toBeGreaterThan(4000);
  }, 120_000);
});

describe("toNativeRules", () => {
  it("turns an if chain into rules, and the else variant into a last rule that always matches", () => {
    const flag = imported({
      if: [
        { ends_with: [{ var: "email" }, "@example.com"] },
        "on",
        { in: [{ var: "country" }, ["de", "at"]] },
        "on",
        "off",
      ],
    });
    const result = toNativeRules(flag);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.targeting).toBeUndefined();
    expect(result.value.rules).toEqual([
      { when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } },
      { when: { attribute: "country", op: "in", values: ["de", "at"] }, serve: { variant: "on" } },
      {
        description: ELSE_RULE_DESCRIPTION,
        when: { attribute: "$flagd.flagKey", op: "equals", values: ["flag-0"] },
        serve: { variant: "off" },
      },
    ]);
    // The rest of the flag is kept as it was.
    expect({ ...result.value, rules: undefined }).toEqual({ ...flag, targeting: undefined, rules: undefined });
  });

  it("keeps no-match as the default (no last rule) and converts !==, !, and/or", () => {
    const result = toNativeRules(
      imported({
        if: [
          {
            and: [
              { "!==": [{ var: "plan" }, "free"] },
              { or: [{ "===": [true, { var: "beta" }] }, { "!": { starts_with: [{ var: "email" }, "qa"] } }] },
            ],
          },
          "on",
        ],
      }),
    );
    expect(result.ok && result.value.rules).toEqual([
      {
        when: {
          all: [
            { not: { attribute: "plan", op: "equals", values: ["free"] } },
            {
              any: [
                { attribute: "beta", op: "equals", values: [true] },
                { not: { attribute: "email", op: "startsWith", values: ["qa"] } },
              ],
            },
          ],
        },
        serve: { variant: "on" },
      },
    ]);
  });

  it("refuses what has no exact native form, naming where and why", () => {
    const reason = (targeting: Json, extra?: Record<string, unknown>) => {
      const r = toNativeRules(imported(targeting, extra));
      return r.ok ? "converted" : `${r.errors[0]!.path}: ${r.errors[0]!.message}`;
    };
    expect(reason({ if: [{ "==": [{ var: "age" }, 21] }, "on", "off"] })).toBe(
      'targeting.if[0].==: loose equality (==) converts types ("1" == 1); native equals does not. Use ===',
    );
    expect(
      reason({
        fractional: [
          ["on", 50],
          ["off", 50],
        ],
      }),
    ).toMatch(/^targeting: a fractional split answers reason TARGETING_MATCH/);
    expect(
      reason({
        if: [
          { "===": [{ var: "plan" }, "pro"] },
          "on",
          {
            fractional: [
              ["on", 50],
              ["off", 50],
            ],
          },
        ],
      }),
    ).toMatch(/^targeting\.if\[2\]: a fractional split/);
    expect(reason({ if: [{ "<": [{ var: "age" }, 18] }, "off"] })).toMatch(/convert strings to numbers/);
    expect(reason({ if: [{ in: ["beta", { var: "email" }] }, "on"] })).toMatch(/substring tests do not/);
    expect(reason({ if: [{ var: "beta" }, "on"] })).toMatch(/truthiness/);
    expect(reason({ if: [{ "===": [{ var: "user.plan" }, "pro"] }, "on"] })).toMatch(
      /^targeting\.if\[0\]\.===: .*top-level attribute or \$flagd/,
    );
    expect(reason({ if: [{ "===": [{ var: "$flagd.flagKey" }, "flag-0"] }, "on"] })).toBe("converted");
    expect(
      reason({ if: [{ "===": [{ var: "plan" }, "pro"] }, null, { "===": [{ var: "plan" }, "max"] }, "on"] }),
    ).toMatch(/serves the default before later branches/);
    expect(reason({ if: [{ "===": [{ var: "plan" }, "pro"] }, "gold"] })).toBe(
      'targeting.if[1]: "gold" is not a variant of the flag (JSON Logic answers an error for it)',
    );
    expect(reason({ if: [{ sem_ver: [{ var: "v" }, ">=", "2.0.0"] }, "on"] })).toMatch(
      /reads a number attribute as a version/,
    );
  });

  it("refuses a flag without JSON Logic", () => {
    const native = compileEnvironment({
      flags: [
        {
          key: "n",
          type: "boolean",
          variants: { on: true },
          defaultVariant: "on",
          enabled: true,
          clientVisible: false,
        },
      ],
      segments: [],
    });
    expect(native.ok).toBe(true);
    const r = toNativeRules({
      key: "n",
      type: "boolean",
      variants: { on: true },
      defaultVariant: "on",
      enabled: true,
      clientVisible: false,
    });
    expect(r.ok).toBe(false);
  });
});
