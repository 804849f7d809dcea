/**
 * Bulk answers joined from per-result fragments (ofrep.ts: ofrepJson, ofrepItemsJson) are byte
 * for byte the rendering they replace, `JSON.stringify(results.map(toOfrepItem))`, for every flag
 * shape, on both compile paths, the first time (text made) and every time after (text kept).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EvaluationContext, EvaluationResult } from "../../src/core/evaluation-types";
import { renderSlot } from "../../src/core/flag-results";
import type { Condition, EnvironmentDoc, Flag, FlagType, Serve } from "../../src/core/model";
import { ofrepItemsJson, ofrepJson, ofrepStatus, toOfrep, toOfrepItem } from "../../src/edge/ofrep";
import { COMPILERS } from "../support/compilers";

const NAMES = ["on", "off", "x"] as const;
const scalar = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean());
const valueOf: Record<FlagType, fc.Arbitrary<unknown>> = {
  boolean: fc.boolean(),
  string: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"quoted"', "ünï😀", "line\nbreak")),
  number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })),
  object: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), {
      noNullPrototype: true,
      maxKeys: 3,
    }),
    fc.array(scalar, { maxLength: 3 }),
  ),
};
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({
    attribute: fc.constantFrom("plan", "country", "age", "user.tier"),
    op: fc.constantFrom("equals", "notEquals", "startsWith"),
    values: fc.tuple(fc.constantFrom("pro", "free", "DE", "gold", "a")),
  }),
  fc.record({
    attribute: fc.constantFrom("plan", "country", "user.tier"),
    op: fc.constant("in"),
    values: fc.array(fc.constantFrom("pro", "free", "DE", "US", "gold", "a", "b", "c", "d"), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({
    attribute: fc.constant("age"),
    op: fc.constantFrom("gt", "lte"),
    values: fc.tuple(fc.integer({ min: 0, max: 60 })),
  }),
  fc.constant({ segment: "pros" }),
);
const serve: fc.Arbitrary<Serve> = fc.oneof(
  fc.constantFrom(...NAMES).map((variant) => ({ variant })),
  fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 5 }), fc.constantFrom(undefined, "user.id")).map(([a, b, bucketBy]) => ({
    rollout: {
      ...(bucketBy ? { bucketBy } : {}),
      variants: [
        { variant: "on", weight: a + 1 },
        { variant: "off", weight: b },
      ],
    },
  })),
);
const metadata = fc.option(
  fc.dictionary(fc.constantFrom("team", "owner", "tier"), scalar, { noNullPrototype: true, maxKeys: 2 }),
  { nil: undefined },
);

const flagGen = (key: string, earlier: readonly string[]): fc.Arbitrary<Flag> =>
  fc.constantFrom<FlagType>("boolean", "string", "number", "object").chain((type) =>
    fc
      .record({
        values: fc.tuple(valueOf[type], valueOf[type], valueOf[type]),
        defaultVariant: fc.oneof(fc.constantFrom(...NAMES), fc.constant(null), fc.constant(undefined)),
        enabled: fc.boolean(),
        clientVisible: fc.boolean(),
        metadata,
        shape: fc.constantFrom("static", "rules", "targets", "logic", "bad-logic", "prerequisite"),
        rules: fc.array(fc.record({ when: condition, serve }), { minLength: 1, maxLength: 3 }),
        fallthrough: fc.option(serve, { nil: undefined }),
      })
      .map((g): Flag => {
        const flag: Flag = {
          key,
          type,
          enabled: g.enabled,
          clientVisible: g.clientVisible,
          variants: { on: g.values[0] as never, off: g.values[1] as never, x: g.values[2] as never },
          ...(g.defaultVariant === undefined ? {} : { defaultVariant: g.defaultVariant }),
          ...(g.metadata ? { metadata: g.metadata } : {}),
        };
        switch (g.shape) {
          case "static":
            return g.fallthrough && "variant" in g.fallthrough ? { ...flag, fallthrough: g.fallthrough } : flag;
          case "rules":
            return { ...flag, rules: g.rules, ...(g.fallthrough ? { fallthrough: g.fallthrough } : {}) };
          case "targets":
            return {
              ...flag,
              targets: [{ variant: "x", values: ["u1", "u2"] }],
              ...(g.fallthrough ? { fallthrough: g.fallthrough } : {}),
            };
          case "logic":
            return { ...flag, targeting: { if: [{ "==": [{ var: "plan" }, "pro"] }, "on", { var: "country" }] } };
          case "bad-logic":
            return { ...flag, targeting: { no_such_operator: [1] } };
          case "prerequisite":
            return earlier.length === 0
              ? flag
              : {
                  ...flag,
                  prerequisites: [{ flag: earlier[earlier.length - 1]!, variant: "on" }],
                  rules: g.rules.slice(0, 1),
                };
        }
        return flag;
      }),
  );

const docGen: fc.Arbitrary<EnvironmentDoc> = fc
  .tuple(fc.integer({ min: 1, max: 8 }), metadata)
  .chain(([n, docMetadata]) => {
    const keys = Array.from({ length: n }, (_, i) => `flag-${i}`);
    return fc.tuple(...keys.map((k, i) => flagGen(k, keys.slice(0, i)))).map((flags) => ({
      flags,
      segments: [
        {
          key: "pros",
          included: ["u1"],
          excluded: ["u2"],
          rules: [{ attribute: "plan", op: "equals", values: ["pro"] }],
        },
      ],
      ...(docMetadata ? { metadata: docMetadata } : {}),
    }));
  });

const contextGen: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    targetingKey: fc.constantFrom("u1", "u2", "u3", "someone-else", ""),
    plan: fc.constantFrom("pro", "free"),
    country: fc.constantFrom("DE", "US", "on", "off", "x", "nope"),
    age: fc.integer({ min: 0, max: 70 }),
    user: fc.record(
      { tier: fc.constantFrom("gold", "a"), id: fc.constantFrom("i1", "i2", "i3") },
      { noNullPrototype: true },
    ),
  },
  { requiredKeys: [], noNullPrototype: true },
);

/** What the bulk route rendered before fragments. */
const oldBulk = (results: readonly EvaluationResult[]) => JSON.stringify(results.map(toOfrepItem));

describe.each(COMPILERS)("OFREP fragments (%s compile)", (_name, compile) => {
  it("render bulk and single answers byte for byte as before, for every flag shape, first and later times", () => {
    let kept = 0;
    const seen = new Set<string>();
    fc.assert(
      fc.property(docGen, fc.array(contextGen, { minLength: 1, maxLength: 5 }), (doc, contexts) => {
        const env = compile(doc, { invalidTargeting: "parse-error" });
        expect(env.ok, JSON.stringify(!env.ok && env.errors)).toBe(true);
        if (!env.ok) return;
        for (const ctx of contexts) {
          for (let round = 0; round < 2; round++) {
            for (const clientOnly of [false, true]) {
              const results = env.value.evaluateAll(ctx, { clientOnly });
              expect(ofrepItemsJson(results)).toBe(oldBulk(results));
            }
            for (const f of doc.flags) {
              for (const options of [undefined, { expectedType: "boolean" as const }, { explain: true }]) {
                const r = env.value.evaluate(f.key, ctx, options);
                expect(ofrepJson(r)).toBe(JSON.stringify(toOfrep(r).body));
                expect(ofrepStatus(r)).toBe(toOfrep(r).status);
                seen.add(`${r.reason}/${r.errorCode ?? (r.value === undefined ? "no value" : typeof r.value)}`);
                if (renderSlot(r)?.text !== undefined) kept++;
              }
            }
          }
          const missing = env.value.evaluate("no-such-flag", ctx);
          expect(ofrepJson(missing)).toBe(JSON.stringify(toOfrep(missing).body));
          expect(ofrepStatus(missing)).toBe(404);
        }
      }),
      { seed: 42, numRuns: 250 },
    );
    expect(kept).toBeGreaterThan(1000);
    // Every kind of answer was rendered.
    for (const kind of [
      "STATIC/boolean",
      "STATIC/object",
      "TARGETING_MATCH/string",
      "TARGETING_MATCH/number",
      "SPLIT/object",
      "DEFAULT/no value",
      "DEFAULT/number",
      "DISABLED/no value",
      "ERROR/PARSE_ERROR",
      "ERROR/TYPE_MISMATCH",
      "ERROR/GENERAL",
    ])
      expect([...seen]).toContain(kind);
  });

  it("keeps one text per preallocated result: the same string object is served again", () => {
    const env = compile({
      flags: [
        {
          key: "s",
          type: "string",
          variants: { a: "A" },
          defaultVariant: "a",
          enabled: true,
          clientVisible: true,
          metadata: { team: "t" },
        },
      ],
      segments: [],
    });
    if (!env.ok) throw new Error("compile failed");
    const r = env.value.evaluate("s", {});
    expect(renderSlot(r)?.text).toBeUndefined();
    const text = ofrepJson(r);
    expect(text).toBe('{"key":"s","reason":"STATIC","value":"A","variant":"a","metadata":{"team":"t"}}');
    expect(renderSlot(env.value.evaluate("s", { other: 1 }))?.text).toBe(text);
    // A bulk answer of none, one and two results.
    expect(ofrepItemsJson([])).toBe("[]");
    expect(ofrepItemsJson([r])).toBe(`[${text}]`);
    expect(ofrepItemsJson([r, r])).toBe(`[${text},${text}]`);
    // The slot is invisible to spreads, JSON and equality.
    expect(Object.keys(r)).toEqual(["key", "value", "variant", "reason", "metadata"]);
    expect(renderSlot({ ...r })).toBeUndefined();
    expect(JSON.stringify(r)).toBe('{"key":"s","value":"A","variant":"a","reason":"STATIC","metadata":{"team":"t"}}');
  });
});
