/**
 * jsonlogic-build.ts turns native conditions and serves into flagd JSON Logic. The built logic
 * must decide exactly as the native condition does, missing and mistyped attributes included
 * (checked here through the engine's JSON Logic front-end), and say what flagd cannot express.
 */
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { EvaluationContext } from "../../src/core/evaluation-types";
import {
  conditionToLogic,
  segmentToLogic,
  serveToLogic,
  targetLogic,
  type BuildContext,
} from "../../src/core/flagd/jsonlogic-build";
import type { Condition, Segment } from "../../src/core/model";

const ctx = (segments: Segment[] = []): BuildContext => ({
  segments: new Map(segments.map((s) => [s.key, s])),
  warnings: [],
  inlineSegments: true,
});

const conditions: Condition[] = [
  { attribute: "plan", op: "equals", values: ["pro"] },
  { attribute: "plan", op: "notEquals", values: ["free"] },
  { attribute: "country", op: "in", values: ["DE", "FR"] },
  { attribute: "country", op: "notIn", values: ["US"] },
  { attribute: "email", op: "endsWith", values: ["@example.com"] },
  { attribute: "email", op: "startsWith", values: ["admin"] },
  { attribute: "age", op: "gt", values: [30] },
  { attribute: "age", op: "lte", values: [18] },
  { attribute: "app.version", op: "semverGte", values: ["2.1.0"] },
  {
    all: [{ attribute: "plan", op: "equals", values: ["pro"] }, { not: { attribute: "age", op: "lt", values: [21] } }],
  },
  {
    any: [
      { attribute: "beta", op: "equals", values: [true] },
      { attribute: "country", op: "in", values: ["DE"] },
    ],
  },
];
const contexts: EvaluationContext[] = [
  {},
  { plan: "pro", country: "DE", email: "admin@example.com", age: 40, app: { version: "2.1.0" }, beta: true },
  { plan: "free", country: "US", email: "x@example.org", age: 18, app: { version: "2.0.9" } },
  { plan: null, country: 5, email: 7, age: "40", app: { version: "v3" } },
  { age: true, plan: ["pro"], beta: "true" },
];

describe("conditionToLogic decides as the native condition", () => {
  it.each(conditions.map((c) => [JSON.stringify(c), c] as const))("%s", (_name, when) => {
    const base = {
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "off",
      enabled: true,
      clientVisible: false,
    } as const;
    const env = compileEnvironment({
      flags: [
        { ...base, key: "native", rules: [{ when, serve: { variant: "on" } }] },
        { ...base, key: "logic", targeting: { if: [conditionToLogic(when, "when", ctx()), "on", "off"] } },
      ],
      segments: [],
    });
    if (!env.ok) throw new Error(JSON.stringify(env.errors));
    for (const c of contexts)
      expect(env.value.evaluate("logic", c).value, JSON.stringify(c)).toBe(env.value.evaluate("native", c).value);
  });

  it("writes flagd's own operators", () => {
    expect(
      JSON.stringify(conditionToLogic({ attribute: "email", op: "endsWith", values: ["@x.com"] }, "w", ctx())),
    ).toContain('"ends_with"');
    expect(
      JSON.stringify(conditionToLogic({ attribute: "v", op: "semverCaret", values: ["1.0.0"] }, "w", ctx())),
    ).toContain('"sem_ver"');
  });

  it("turns what flagd cannot express (matches) into false with a warning at its path", () => {
    const c = ctx();
    expect(conditionToLogic({ attribute: "email", op: "matches", values: ["^a"] }, "flags.f.rules[0].when", c)).toBe(
      false,
    );
    expect(c.warnings.map((w) => w.path)).toEqual(["flags.f.rules[0].when"]);
  });
});

describe("segments, serves and targets", () => {
  it("a segment: excluded wins over included and rules", () => {
    const seg: Segment = {
      key: "s",
      included: ["u1", "u2"],
      excluded: ["u2"],
      rules: [{ attribute: "plan", op: "equals", values: ["pro"] }],
    };
    const env = compileEnvironment({
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          enabled: true,
          clientVisible: false,
          targeting: { if: [segmentToLogic(seg, ctx([seg])), "on", "off"] },
        },
      ],
      segments: [],
    });
    if (!env.ok) throw new Error(JSON.stringify(env.errors));
    const on = (c: EvaluationContext) => env.value.evaluate("f", c).value;
    expect([
      on({ targetingKey: "u1" }),
      on({ targetingKey: "u2", plan: "pro" }),
      on({ targetingKey: "u3", plan: "pro" }),
      on({ targetingKey: "u3" }),
    ]).toEqual([true, false, true, false]);
  });

  it("serves: a variant name, fractional for rollouts (flag key prefixed for bucketBy)", () => {
    expect(serveToLogic({ variant: "on" })).toBe("on");
    expect(
      serveToLogic({
        rollout: {
          variants: [
            { variant: "a", weight: 1 },
            { variant: "b", weight: 3 },
          ],
        },
      }),
    ).toEqual({
      fractional: [
        ["a", 1],
        ["b", 3],
      ],
    });
    expect(
      JSON.stringify(serveToLogic({ rollout: { bucketBy: "org.id", variants: [{ variant: "a", weight: 1 }] } })),
    ).toContain('{"cat":[{"var":"$flagd.flagKey"},{"var":"org.id"}]}');
    expect(targetLogic(["u1"])).toEqual({ in: [{ var: "targetingKey" }, ["u1"]] });
  });
});
