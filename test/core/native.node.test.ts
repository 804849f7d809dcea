/**
 * The native front-end: every operator (match, non-match, wrong type, missing attribute), regex
 * safety, prerequisites, segments, targets, rollouts, validation paths and explanations.
 */
import { describe, expect, it, vi } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { CompiledEnvironment, EvaluationContext } from "../../src/core/evaluation-types";
import type { Condition, EnvironmentDoc, Flag, Operator, Scalar, Segment } from "../../src/core/model";

function flag(key: string, extra: Partial<Flag> = {}): Flag {
  return {
    key,
    type: "string",
    variants: { on: "ON", off: "OFF" },
    defaultVariant: "off",
    enabled: true,
    clientVisible: false,
    ...extra,
  };
}

function env(flags: Flag[], segments: Segment[] = [], more: Partial<EnvironmentDoc> = {}): CompiledEnvironment {
  const r = compileEnvironment({ flags, segments, ...more });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function errors(flags: Flag[], segments: Segment[] = []) {
  const r = compileEnvironment({ flags, segments });
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

const ruleFlag = (when: Condition) => flag("f", { rules: [{ when, serve: { variant: "on" } }] });
const matches = (when: Condition, ctx: EvaluationContext, now?: number) =>
  env([ruleFlag(when)]).evaluate("f", ctx, now === undefined ? undefined : { now }).variant === "on";

describe("native operators", () => {
  const JAN_2027 = Date.parse("2027-01-01T00:00:00Z");
  type Row = [Operator, Scalar[], unknown, boolean];
  describe.each<[string, Row[]]>([
    [
      "equals / notEquals",
      [
        ["equals", ["gold"], "gold", true],
        ["equals", ["gold"], "free", false],
        ["equals", [5], "5", false],
        ["equals", [5], 5, true],
        ["notEquals", ["gold"], "free", true],
        ["notEquals", ["gold"], "gold", false],
        ["notEquals", ["gold"], undefined, false],
      ],
    ],
    [
      "in / notIn",
      [
        ["in", ["de", "fr", "it"], "fr", true],
        ["in", ["de", "fr"], "us", false],
        ["in", [1, 2], "1", false],
        ["in", [1, 2], 2, true],
        ["notIn", ["de", "fr"], "us", true],
        ["notIn", ["de", "fr"], "de", false],
        ["notIn", ["de"], undefined, false],
      ],
    ],
    [
      "string",
      [
        ["startsWith", ["adm"], "admin", true],
        ["startsWith", ["adm"], "user", false],
        ["startsWith", ["1"], 12, false],
        ["endsWith", ["@acme.com", "@acme.org"], "bob@acme.org", true],
        ["endsWith", ["@acme.com"], "bob@evil.com", false],
        ["contains", ["beta"], "xbetax", true],
        ["contains", ["beta"], "alpha", false],
        ["contains", ["1"], 1, false],
        ["notContains", ["beta"], "alpha", true],
        ["notContains", ["beta"], "betamax", false],
        ["notContains", ["x"], 42, false],
      ],
    ],
    [
      "matches",
      [
        ["matches", ["^[a-z]+@example\\.com$"], "bob@example.com", true],
        ["matches", ["^[a-z]+@example\\.com$"], "bob@example.org", false],
        ["matches", ["^\\d+$"], 123, false],
        ["matches", ["(ab)+c"], "ababc", true],
      ],
    ],
    [
      "numeric",
      [
        ["lt", [18], 17, true],
        ["lt", [18], 18, false],
        ["lte", [18], 18, true],
        ["gt", [18], 19, true],
        ["gt", [18], 18, false],
        ["gte", [18], 18, true],
        ["gte", [18], "20", false],
        ["lt", [18], null, false],
      ],
    ],
    [
      "semver",
      [
        ["semverEq", ["1.2.3"], "1.2.3", true],
        ["semverEq", ["1.2.3"], "v1.2.3", true],
        ["semverEq", ["1.2.3"], "1.2.4", false],
        ["semverNeq", ["1.2.3"], "1.2.4", true],
        ["semverNeq", ["1.2.3"], "not-a-version", false],
        ["semverLt", ["2.0.0"], "2.0.0-alpha", true],
        ["semverLt", ["2.0.0"], "2.0.0", false],
        ["semverLte", ["2.0.0"], "2.0.0", true],
        ["semverGt", ["1.9.9"], "1.10.0", true],
        ["semverGt", ["1.10.0"], "1.9.9", false],
        ["semverGte", ["1.0.0"], "1.0.0+build", true],
        ["semverTilde", ["3.0.0"], "3.0.9", true],
        ["semverTilde", ["3.0.0"], "3.1.0", false],
        ["semverCaret", ["3.0.0"], "3.9.0", true],
        ["semverCaret", ["3.0.0"], "4.0.0", false],
        ["semverEq", ["1.0.0"], 1, true],
        ["semverEq", ["1.0.0"], true, false],
      ],
    ],
    [
      "dates",
      [
        ["before", ["2027-01-01"], "2026-12-31", true],
        ["before", ["2027-01-01"], "2027-01-02", false],
        ["after", ["2027-01-01T00:00:00Z"], JAN_2027 + 1, true],
        ["after", [JAN_2027], JAN_2027, false],
        ["after", ["2027-01-01"], "yesterday", false],
        ["before", ["2027-01-01"], true, false],
      ],
    ],
  ])("%s", (_family, rows) => {
    it.each(rows)("%s %j on %j → %s", (op, values, attr, expected) => {
      expect(matches({ attribute: "user.attr", op, values }, attr === undefined ? {} : { user: { attr } })).toBe(
        expected,
      );
    });
  });

  it("a missing attribute never matches, even for negated operators", () => {
    for (const op of ["notEquals", "notIn", "notContains"] as const) {
      expect(matches({ attribute: "plan", op, values: ["gold"] }, {})).toBe(false);
      expect(matches({ attribute: "plan", op, values: ["gold"] }, { plan: null })).toBe(false);
    }
  });

  it("before/after on $flagd.timestamp read the evaluation clock, and the flag is time-dependent", () => {
    const e = env([ruleFlag({ attribute: "$flagd.timestamp", op: "after", values: ["2027-01-01T00:00:00Z"] })]);
    expect(e.get("f")?.timeDependent).toBe(true);
    expect(e.timeDependent).toBe(true);
    expect(e.evaluate("f", {}, { now: JAN_2027 - 1000 }).variant).toBe("off");
    expect(e.evaluate("f", {}, { now: JAN_2027 + 1000 }).variant).toBe("on");
    expect(env([ruleFlag({ attribute: "x", op: "equals", values: ["y"] })]).timeDependent).toBe(false);
  });

  it("all / any / not compose", () => {
    const when: Condition = {
      all: [
        {
          any: [
            { attribute: "country", op: "in", values: ["de", "at"] },
            { attribute: "beta", op: "equals", values: [true] },
          ],
        },
        { not: { attribute: "email", op: "endsWith", values: ["@evil.com"] } },
      ],
    };
    expect(matches(when, { country: "de", email: "a@b.com" })).toBe(true);
    expect(matches(when, { country: "us", beta: true, email: "a@b.com" })).toBe(true);
    expect(matches(when, { country: "de", email: "x@evil.com" })).toBe(false);
    expect(matches(when, { country: "us", email: "a@b.com" })).toBe(false);
  });

  it.each<[Operator, Scalar[]]>([
    ["lt", ["ten"]],
    ["equals", []],
    ["in", []],
    ["semverEq", ["nope"]],
    ["before", ["next week"]],
    ["startsWith", [1]],
    ["matches", [5]],
  ])("rejects bad rule values: %s %j", (op, values) => {
    expect(errors([ruleFlag({ attribute: "a", op, values })])).toEqual([
      { path: "flags.f.rules[0].when.values", message: expect.any(String) },
    ]);
  });
});

describe("regex safety", () => {
  it.each([
    ["(a+)+$", "nested"],
    ["(a*)*", "nested"],
    ["((ab)+)*", "nested"],
    ["(\\w+\\s?)*$", "nested"],
    ["(a|aa)*", "alternation"],
    ["(a)\\1", "backreference"],
    ["(?<n>a)\\k<n>", "backreference"],
    ["(?=a)b", "lookahead"],
    ["(?!a)b", "lookahead"],
    ["(?<=a)b", "lookbehind"],
    ["a".repeat(257), "longer than 256"],
    ["(unclosed", "invalid regular expression"],
  ])("refuses %j (%s) at compile time with a clear message", (pattern, why) => {
    const errs = errors([ruleFlag({ attribute: "email", op: "matches", values: [pattern] })]);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.path).toBe("flags.f.rules[0].when.values");
    expect(errs[0]!.message).toContain(why);
  });

  it.each(["^[a-z0-9._%+-]+@example\\.com$", "(ab)+", "a(b|c)d", "^v\\d+\\.\\d+", "[(]+", "\\(a+\\)+"])(
    "accepts %j",
    (pattern) => {
      expect(
        compileEnvironment({ flags: [ruleFlag({ attribute: "x", op: "matches", values: [pattern] })], segments: [] })
          .ok,
      ).toBe(true);
    },
  );
});

describe("prerequisites", () => {
  const base = flag("base", {
    rules: [{ when: { attribute: "plan", op: "equals", values: ["gold"] }, serve: { variant: "on" } }],
  });
  const dependent = flag("dep", { prerequisites: [{ flag: "base", variant: "on" }], fallthrough: { variant: "on" } });

  it("serves normally when met, the default variant (DEFAULT) naming the prerequisite when not", () => {
    const e = env([base, dependent]);
    expect(e.evaluate("dep", { plan: "gold" })).toMatchObject({ variant: "on", reason: "DEFAULT" });
    const miss = e.evaluate("dep", { plan: "free" }, { explain: true });
    expect(miss).toMatchObject({ variant: "off", value: "OFF", reason: "DEFAULT" });
    expect(miss.explanation).toMatchObject({
      step: "prerequisite",
      prerequisite: { flag: "base", expected: "on", got: "off" },
    });
  });

  it("a disabled prerequisite is not met", () => {
    const e = env([{ ...base, enabled: false }, dependent]);
    expect(e.evaluate("dep", { plan: "gold" }, { explain: true })).toMatchObject({
      variant: "off",
      explanation: { step: "prerequisite", prerequisite: { flag: "base", expected: "on" } },
    });
  });

  it.each([
    [
      [
        flag("a", { prerequisites: [{ flag: "b", variant: "on" }] }),
        flag("b", { prerequisites: [{ flag: "a", variant: "on" }] }),
      ],
      "a → b → a",
    ],
    [[flag("a", { prerequisites: [{ flag: "a", variant: "on" }] })], "a → a"],
    [
      [
        flag("a", { prerequisites: [{ flag: "b", variant: "on" }] }),
        flag("b", { prerequisites: [{ flag: "c", variant: "on" }] }),
        flag("c", { prerequisites: [{ flag: "a", variant: "off" }] }),
      ],
      "a → b → c → a",
    ],
  ])("rejects cycles at compile time, naming them (%#)", (flags, cycle) => {
    const errs = errors(flags);
    expect(errs.map((e) => e.message)).toContain(`prerequisite cycle: ${cycle}`);
  });

  it("rejects unknown prerequisite flags and variants", () => {
    expect(errors([flag("a", { prerequisites: [{ flag: "ghost", variant: "on" }] })])).toEqual([
      { path: "flags.a.prerequisites[0].flag", message: expect.stringContaining("ghost") },
    ]);
    expect(errors([base, flag("a", { prerequisites: [{ flag: "base", variant: "maybe" }] })])).toEqual([
      { path: "flags.a.prerequisites[0].variant", message: expect.stringContaining("maybe") },
    ]);
  });
});

describe("segments", () => {
  const seg = (s: Partial<Segment>): Segment => ({ key: "beta", included: [], excluded: [], rules: [], ...s });
  const segFlag = flag("f", { rules: [{ id: "beta-users", when: { segment: "beta" }, serve: { variant: "on" } }] });

  it("included keys, rules (any-of) and excluded keys, excluded winning", () => {
    const e = env(
      [segFlag],
      [
        seg({
          included: ["u1", "u2"],
          excluded: ["u2", "u3"],
          rules: [
            { attribute: "email", op: "endsWith", values: ["@acme.com"] },
            { attribute: "staff", op: "equals", values: [true] },
          ],
        }),
      ],
    );
    const v = (ctx: EvaluationContext) => e.evaluate("f", ctx).variant;
    expect(v({ targetingKey: "u1" })).toBe("on");
    expect(v({ targetingKey: "u2" })).toBe("off");
    expect(v({ targetingKey: "u3", email: "x@acme.com" })).toBe("off");
    expect(v({ targetingKey: "u4", email: "x@acme.com" })).toBe("on");
    expect(v({ targetingKey: "u5", staff: true })).toBe("on");
    expect(v({ targetingKey: "u6" })).toBe("off");
    expect(v({ email: "x@acme.com" })).toBe("on");
  });

  it("a 100k-key segment compiles once into a Set and answers in constant time", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
    const t0 = performance.now();
    const e = env(
      [segFlag, flag("g", { rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] })],
      [seg({ included: keys })],
    );
    const compileMs = performance.now() - t0;
    expect(compileMs).toBeLessThan(2000);
    expect(e.evaluate("f", { targetingKey: "user-99999" }).variant).toBe("on");
    expect(e.evaluate("g", { targetingKey: "user-0" }).variant).toBe("on");
    expect(e.evaluate("f", { targetingKey: "user-100000" }).variant).toBe("off");
    const t1 = performance.now();
    for (let i = 0; i < 100_000; i++) e.evaluate("f", { targetingKey: keys[(i * 7919) % keys.length]! });
    // 100k lookups: linear scans (100k × 50k comparisons) would take many seconds.
    expect(performance.now() - t1).toBeLessThan(1000);
  });

  it("rejects unknown segments and segment cycles", () => {
    expect(errors([flag("f", { rules: [{ when: { segment: "nope" }, serve: { variant: "on" } }] })])).toEqual([
      { path: "flags.f.rules[0].when.segment", message: expect.stringContaining("nope") },
    ]);
    const errs = errors(
      [segFlag],
      [seg({ key: "beta", rules: [{ segment: "alpha" }] }), seg({ key: "alpha", rules: [{ segment: "beta" }] })],
    );
    expect(errs.some((e) => e.message.includes("segment cycle"))).toBe(true);
  });

  it("the explanation names the rule and the segment", () => {
    const e = env([segFlag], [seg({ included: ["u1"] })]);
    expect(e.evaluate("f", { targetingKey: "u1" }, { explain: true }).explanation).toEqual({
      step: "rule",
      ruleIndex: 0,
      ruleId: "beta-users",
      segment: "beta",
    });
  });
});

describe("flag evaluation", () => {
  const rollout = {
    rollout: {
      variants: [
        { variant: "on", weight: 50 },
        { variant: "off", weight: 50 },
      ],
    },
  };

  it("disabled flags answer DISABLED with no value or variant", () => {
    const r = env([
      flag("f", {
        enabled: false,
        rules: [{ when: { attribute: "x", op: "equals", values: [1] }, serve: { variant: "on" } }],
      }),
    ]).evaluate("f", { x: 1 });
    expect(r).toEqual({ key: "f", reason: "DISABLED", metadata: {} });
  });

  it("static flags answer STATIC; no default and no match answer DEFAULT without a value", () => {
    expect(env([flag("f")]).evaluate("f", {})).toEqual({
      key: "f",
      value: "OFF",
      variant: "off",
      reason: "STATIC",
      metadata: {},
    });
    const r = env([
      flag("f", {
        defaultVariant: null,
        rules: [{ when: { attribute: "x", op: "equals", values: [1] }, serve: { variant: "on" } }],
      }),
    ]).evaluate("f", {});
    expect(r).toEqual({ key: "f", reason: "DEFAULT", metadata: {} });
  });

  it("individual targets win over rules (TARGETING_MATCH); rules in order; fallthrough last", () => {
    const e = env([
      flag("f", {
        variants: { a: "A", b: "B", c: "C" },
        defaultVariant: "c",
        targets: [{ variant: "b", values: ["vip"] }],
        rules: [
          { when: { attribute: "plan", op: "equals", values: ["gold"] }, serve: { variant: "a" } },
          { when: { attribute: "plan", op: "in", values: ["gold", "silver"] }, serve: { variant: "b" } },
        ],
        fallthrough: { variant: "c" },
      }),
    ]);
    expect(e.evaluate("f", { targetingKey: "vip", plan: "gold" }, { explain: true })).toMatchObject({
      variant: "b",
      reason: "TARGETING_MATCH",
      explanation: { step: "target" },
    });
    expect(e.evaluate("f", { plan: "gold" }, { explain: true })).toMatchObject({
      variant: "a",
      reason: "TARGETING_MATCH",
      explanation: { step: "rule", ruleIndex: 0 },
    });
    expect(e.evaluate("f", { plan: "silver" }, { explain: true })).toMatchObject({
      variant: "b",
      explanation: { step: "rule", ruleIndex: 1 },
    });
    expect(e.evaluate("f", { plan: "free" }, { explain: true })).toMatchObject({
      variant: "c",
      reason: "DEFAULT",
      explanation: { step: "fallthrough" },
    });
  });

  it("rollouts answer SPLIT, stable per key, about 50/50, and bucket exactly like flagd fractional", () => {
    const native = env([flag("exp", { fallthrough: rollout })]);
    const logic = env([
      flag("exp", {
        targeting: {
          fractional: [
            ["on", 50],
            ["off", 50],
          ],
        },
      }),
    ]);
    let on = 0;
    for (let i = 0; i < 4000; i++) {
      const ctx = { targetingKey: `user-${i}` };
      const r = native.evaluate("exp", ctx);
      expect(r.reason).toBe("SPLIT");
      expect(r.variant).toBe(logic.evaluate("exp", ctx).variant);
      if (r.variant === "on") on++;
    }
    expect(on).toBeGreaterThan(1800);
    expect(on).toBeLessThan(2200);
    const r = native.evaluate("exp", { targetingKey: "user-1" }, { explain: true });
    expect(r.explanation).toMatchObject({ step: "fallthrough", bucket: { by: "targetingKey", total: 100 } });
  });

  it("a rollout without a targeting key serves the default variant (DEFAULT), like flagd", () => {
    const e = env([
      flag("f", { rules: [{ when: { attribute: "country", op: "equals", values: ["de"] }, serve: rollout }] }),
    ]);
    expect(e.evaluate("f", { country: "de" })).toMatchObject({ variant: "off", reason: "DEFAULT" });
    expect(e.evaluate("f", { country: "de", targetingKey: "k" }).reason).toBe("SPLIT");
  });

  it("bucketBy reads another attribute", () => {
    const e = env([
      flag("f", {
        fallthrough: {
          rollout: {
            bucketBy: "org.id",
            variants: [
              { variant: "on", weight: 1 },
              { variant: "off", weight: 1 },
            ],
          },
        },
      }),
    ]);
    const a = e.evaluate("f", { targetingKey: "1", org: { id: "acme" } }).variant;
    for (let i = 2; i < 50; i++)
      expect(e.evaluate("f", { targetingKey: String(i), org: { id: "acme" } }).variant).toBe(a);
  });

  it.each([
    ["boolean", { on: true, off: false }, "string", "TYPE_MISMATCH"],
    ["number", { on: 1, off: 2.5 }, "integer", undefined],
    ["number", { on: 1, off: 2.5 }, "float", undefined],
    ["object", { on: { a: 1 }, off: [] }, "object", undefined],
    ["string", { on: "x", off: "y" }, "boolean", "TYPE_MISMATCH"],
  ] as const)("typed resolution: %s flag read as %s", (type, variants, expectedType, code) => {
    const r = env([{ ...flag("f"), type, variants: variants as unknown as Flag["variants"] }]).evaluate(
      "f",
      {},
      { expectedType },
    );
    expect(r.errorCode).toBe(code);
    if (code) {
      expect(r.reason).toBe("ERROR");
      expect(r.value).toBeUndefined();
    } else expect(r.value).toEqual((variants as Record<string, unknown>).off);
  });

  it("unknown flags answer FLAG_NOT_FOUND with the flag-set metadata", () => {
    expect(env([flag("f")], [], { metadata: { team: "web" } }).evaluate("nope", {})).toEqual({
      key: "nope",
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
      errorMessage: "flag 'nope' not found",
      metadata: { team: "web" },
    });
  });

  it("flag metadata is merged over flag-set metadata", () => {
    const r = env([flag("f", { metadata: { team: "payments", tier: 1 } })], [], {
      metadata: { team: "web", env: "prod" },
    }).evaluate("f", {});
    expect(r.metadata).toEqual({ team: "payments", env: "prod", tier: 1 });
  });

  it("results are frozen and reused", () => {
    const e = env([flag("f")]);
    const a = e.evaluate("f", {});
    expect(Object.isFrozen(a)).toBe(true);
    expect(e.evaluate("f", { other: 1 })).toBe(a);
    expect(() => {
      (a as { variant?: string }).variant = "on";
    }).toThrow();
  });

  it("reads the clock only for flags that depend on time, once per evaluateAll", () => {
    const e = env([
      flag("plain", {
        rules: [{ when: { attribute: "plan", op: "equals", values: ["gold"] }, serve: { variant: "on" } }],
      }),
      flag("logic", { targeting: { if: [{ "==": [{ var: "plan" }, "gold"] }, "on", "off"] } }),
      flag("timed", { targeting: { if: [{ ">": [{ var: "$flagd.timestamp" }, 0] }, "on", "off"] } }),
      flag("dated", {
        rules: [
          { when: { attribute: "$flagd.timestamp", op: "after", values: ["2020-01-01"] }, serve: { variant: "on" } },
        ],
      }),
    ]);
    const now = vi.spyOn(Date, "now");
    try {
      e.evaluate("plain", { plan: "gold" });
      e.evaluate("logic", { plan: "gold" }, { explain: true });
      expect(now).not.toHaveBeenCalled();
      expect(e.evaluate("timed", {}).variant).toBe("on");
      expect(now).toHaveBeenCalledTimes(1);
      now.mockClear();
      expect(e.evaluateAll({}).map((r) => r.variant)).toEqual(["off", "off", "on", "on"]);
      expect(now).toHaveBeenCalledTimes(1);
      now.mockClear();
      e.evaluate("timed", {}, { now: 5_000 });
      expect(now).not.toHaveBeenCalled();
    } finally {
      now.mockRestore();
    }
    expect(e.flags.map((f) => f.timeDependent)).toEqual([false, false, true, true]);
  });

  it("evaluateAll answers every flag in order, or only client-visible ones", () => {
    const e = env([flag("a"), flag("b", { clientVisible: true }), flag("c", { enabled: false, clientVisible: true })]);
    expect(e.evaluateAll({}).map((r) => [r.key, r.reason])).toEqual([
      ["a", "STATIC"],
      ["b", "STATIC"],
      ["c", "DISABLED"],
    ]);
    expect(e.evaluateAll({}, { clientOnly: true }).map((r) => r.key)).toEqual(["b", "c"]);
    expect(e.flags.map((f) => f.key)).toEqual(["a", "b", "c"]);
  });
});

describe("validation", () => {
  it.each<[string, Flag[], string]>([
    ["unknown default variant", [flag("f", { defaultVariant: "maybe" })], "flags.f.defaultVariant"],
    [
      "variant of the wrong type",
      [{ ...flag("f"), type: "number", variants: { on: 1, off: "zero" }, defaultVariant: "on" }],
      "flags.f.variants.off",
    ],
    [
      "rule serving an unknown variant",
      [flag("f", { rules: [{ when: { attribute: "a", op: "equals", values: [1] }, serve: { variant: "x" } }] })],
      "flags.f.rules[0].serve.variant",
    ],
    [
      "target with an unknown variant",
      [flag("f", { targets: [{ variant: "x", values: ["u"] }] })],
      "flags.f.targets[0].variant",
    ],
    [
      "rollout with an unknown variant",
      [flag("f", { fallthrough: { rollout: { variants: [{ variant: "x", weight: 1 }] } } })],
      "flags.f.fallthrough.rollout.variants[0].variant",
    ],
    [
      "rollout weights summing to zero",
      [flag("f", { fallthrough: { rollout: { variants: [{ variant: "on", weight: 0 }] } } })],
      "flags.f.fallthrough.rollout.variants",
    ],
    [
      "targeting and rules together",
      [
        flag("f", {
          targeting: { if: [true, "on"] },
          rules: [{ when: { attribute: "a", op: "equals", values: [1] }, serve: { variant: "on" } }],
        }),
      ],
      "flags.f.targeting",
    ],
    [
      "unknown JSON Logic operator",
      [flag("f", { targeting: { if: [{ regex_match: ["a", "b"] }, "on", "off"] } })],
      "flags.f.targeting.if[0]",
    ],
    [
      "unsupported JSON Logic operator",
      [flag("f", { targeting: { if: [{ "??": [{ var: "tier" }, "free"] }, "on", "off"] } })],
      "flags.f.targeting.if[0]",
    ],
    [
      "arithmetic on a literal that is no number",
      [flag("f", { targeting: { if: [{ ">": [{ "+": [{ var: "n" }, "abc"] }, 0] }, "on", "off"] } })],
      "flags.f.targeting.if[0].>[0].+[1]",
    ],
    [
      "division by a literal zero",
      [flag("f", { targeting: { if: [{ ">": [{ "/": [{ var: "n" }, 0] }, 0] }, "on", "off"] } })],
      "flags.f.targeting.if[0].>[0]./[1]",
    ],
    [
      "$ref to a missing evaluator",
      [flag("f", { targeting: { if: [{ $ref: "ghost" }, "on", "off"] } })],
      "flags.f.targeting.if[0]",
    ],
    ["duplicate flag keys", [flag("f"), flag("f")], "flags[1].key"],
  ])("%s → an issue at its path", (_what, flags, path) => {
    expect(errors(flags).map((e) => e.path)).toContain(path);
  });

  it("a constant JSON Logic expression that fails is a compile error (flagd: PARSE_ERROR)", () => {
    const doc = { flags: [flag("f", { targeting: { if: [{ "<": [1, "abc"] }, "on", "off"] } })], segments: [] };
    expect(compileEnvironment(doc).ok).toBe(false);
    const lenient = compileEnvironment(doc, { invalidTargeting: "parse-error" });
    expect(lenient.ok && lenient.value.evaluate("f", {})).toMatchObject({ reason: "ERROR", errorCode: "PARSE_ERROR" });
  });

  it("absurdly deep nesting is a compile error, never a stack overflow", () => {
    let logic: unknown = "on";
    for (let i = 0; i < 5000; i++) logic = { if: [true, logic, "off"] };
    const r = compileEnvironment({ flags: [flag("f", { targeting: logic })], segments: [] });
    expect(!r.ok && r.errors[0]!.message).toContain("nested deeper than");
    let cond: Condition = { attribute: "a", op: "equals", values: [1] };
    for (let i = 0; i < 5000; i++) cond = { not: cond };
    const n = compileEnvironment({ flags: [ruleFlag(cond)], segments: [] });
    expect(!n.ok && n.errors[0]!.message).toContain("nest deeper than");
  });

  it("$ref resolves from evaluators at compile time, and ref cycles are rejected", () => {
    const e = env([flag("f", { targeting: { if: [{ $ref: "isStaff" }, "on", "off"] } })], [], {
      evaluators: { isStaff: { ends_with: [{ var: "email" }, "@acme.com"] } },
    });
    expect(e.evaluate("f", { email: "a@acme.com" }).variant).toBe("on");
    const r = compileEnvironment({
      flags: [flag("f", { targeting: { if: [{ $ref: "a" }, "on", "off"] } })],
      segments: [],
      evaluators: { a: { $ref: "b" }, b: { $ref: "a" } },
    });
    expect(!r.ok && r.errors[0]!.message).toContain("$ref cycle: a → b → a");
  });

  it("a JSON Logic runtime error answers ERROR/GENERAL and never throws", () => {
    const e = env([flag("f", { targeting: { if: [{ "<": [{ var: "age" }, 18] }, "on", "off"] } })]);
    expect(e.evaluate("f", { age: "abc" })).toMatchObject({ reason: "ERROR", errorCode: "GENERAL" });
    expect(e.evaluate("f", { age: 12 }).variant).toBe("on");
    // A missing attribute is null, and null < 18 in JSON Logic (as in flagd); a null context reads as {}.
    expect(e.evaluate("f", null as unknown as EvaluationContext)).toBe(e.evaluate("f", {}));
    expect(e.evaluate("f", {}).variant).toBe("on");
  });

  it("arithmetic follows flagd: % for cohorts, errors on non-numbers", () => {
    const e = env([flag("f", { targeting: { if: [{ "==": [{ "%": [{ var: "id" }, 10] }, 3] }, "on", "off"] } })]);
    expect(e.evaluate("f", { id: 13 }).variant).toBe("on");
    expect(e.evaluate("f", { id: "23" }).variant).toBe("on");
    expect(e.evaluate("f", { id: 14 }).variant).toBe("off");
    expect(e.evaluate("f", { id: "x" })).toMatchObject({ reason: "ERROR", errorCode: "GENERAL" });
    const m = env([
      flag("g", {
        targeting: { if: [{ ">": [{ max: [{ var: "a" }, { var: "b" }] }, { "+": [{ var: "c" }, 1] }] }, "on", "off"] },
      }),
    ]);
    expect(m.evaluate("g", { a: 1, b: 5, c: 3 }).variant).toBe("on");
    expect(m.evaluate("g", { a: 1, b: 4, c: 3 }).variant).toBe("off");
  });

  it("iterators read the element as context: some / all / none / map / filter / reduce", () => {
    const e = env([
      flag("some", {
        targeting: { if: [{ some: [{ var: "groups" }, { "==": [{ var: "" }, "beta"] }] }, "on", "off"] },
      }),
      flag("all", { targeting: { if: [{ all: [{ var: "scores" }, { ">": [{ var: "" }, 2] }] }, "on", "off"] } }),
      flag("sum", {
        targeting: {
          if: [
            { ">": [{ reduce: [{ var: "scores" }, { "+": [{ var: "accumulator" }, { var: "current" }] }, 0] }, 10] },
            "on",
            "off",
          ],
        },
      }),
      flag("map", {
        targeting: { if: [{ in: ["admin", { map: [{ var: "roles" }, { var: "name" }] }] }, "on", "off"] },
      }),
    ]);
    expect(e.evaluate("some", { groups: ["alpha", "beta"] }).variant).toBe("on");
    expect(e.evaluate("some", { groups: ["alpha"] }).variant).toBe("off");
    expect(e.evaluate("all", { scores: [3, 4] }).variant).toBe("on");
    expect(e.evaluate("all", { scores: [3, 1] }).variant).toBe("off");
    expect(e.evaluate("sum", { scores: [5, 6] }).variant).toBe("on");
    expect(e.evaluate("sum", { scores: [5] }).variant).toBe("off");
    expect(e.evaluate("map", { roles: [{ name: "dev" }, { name: "admin" }] }).variant).toBe("on");
    expect(e.evaluate("map", { roles: [] }).variant).toBe("off");
  });

  it("flagd operators inside iterator bodies error, as in flagd-core 4.0.1", () => {
    const e = env([
      flag("f", {
        targeting: { if: [{ some: [{ var: "emails" }, { ends_with: [{ var: "" }, "@acme.com"] }] }, "on", "off"] },
      }),
    ]);
    expect(e.evaluate("f", { emails: ["a@acme.com"] })).toMatchObject({ reason: "ERROR", errorCode: "GENERAL" });
    expect(e.evaluate("f", { emails: [] }).variant).toBe("off");
  });

  it("$flagd.flagKey and $flagd.timestamp are in the JSON Logic context", () => {
    const e = env([
      flag("my-flag", {
        targeting: {
          if: [
            {
              and: [
                { "==": [{ var: "$flagd.flagKey" }, "my-flag"] },
                { ">": [{ var: "$flagd.timestamp" }, 1_700_000_000] },
              ],
            },
            "on",
            "off",
          ],
        },
      }),
    ]);
    expect(e.get("my-flag")?.timeDependent).toBe(true);
    expect(e.evaluate("my-flag", {}, { now: 1_800_000_000_000 }).variant).toBe("on");
    expect(e.evaluate("my-flag", {}, { now: 1_600_000_000_000 }).variant).toBe("off");
  });
});
