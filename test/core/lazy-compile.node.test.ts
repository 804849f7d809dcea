/**
 * Compile on first use (lazy-compile.ts): the same answers as compileEnvironment whatever order
 * flags are first evaluated in; only what the evaluated flag needs is parsed and compiled; a flag
 * whose prerequisite or segment is broken answers PARSE_ERROR naming the problem (whichever flag
 * was compiled first) while the others answer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { docSource, type DocSource } from "../../src/core/doc-source";
import type { EvaluationContext } from "../../src/core/evaluation-types";
import { openEnvironment } from "../../src/core/lazy-compile";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { compileLazily } from "../support/compilers";

const base = {
  type: "string",
  variants: { a: "A", b: "B", c: "C" },
  defaultVariant: "c",
  enabled: true,
  clientVisible: true,
} as const;
const rollout = {
  rollout: {
    variants: [
      { variant: "a", weight: 30 },
      { variant: "b", weight: 70 },
    ],
  },
};

const doc: EnvironmentDoc = {
  metadata: { team: "core" },
  segments: [
    { key: "big", included: Array.from({ length: 1000 }, (_, i) => `user-${i}`), excluded: ["user-7"], rules: [] },
    { key: "pros", included: [], excluded: [], rules: [{ attribute: "plan", op: "equals", values: ["pro"] }] },
    { key: "big-pros", included: [], excluded: [], rules: [{ all: [{ segment: "big" }, { segment: "pros" }] }] },
    { key: "unused", included: ["x"], excluded: [], rules: [] },
  ],
  flags: [
    { ...base, key: "static" },
    {
      ...base,
      key: "disabled",
      enabled: false,
      rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "a" } }],
    },
    {
      ...base,
      key: "no-default",
      defaultVariant: null,
      rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "a" } }],
    },
    { ...base, key: "in-big", rules: [{ when: { segment: "big" }, serve: { variant: "a" } }], fallthrough: rollout },
    { ...base, key: "in-big-pros", rules: [{ when: { segment: "big-pros" }, serve: { variant: "b" } }] },
    {
      ...base,
      key: "countries",
      rules: [
        {
          when: { attribute: "country", op: "in", values: ["DE", "FR", "IT", "ES", "PT", "NL"] },
          serve: { variant: "a" },
        },
      ],
    },
    {
      ...base,
      key: "countries-later",
      rules: [
        {
          when: { attribute: "country", op: "in", values: ["JP", "US", "BR", "CN", "IN", "ZZ"] },
          serve: { variant: "b" },
        },
      ],
    },
    {
      ...base,
      key: "targets",
      targets: [{ variant: "b", values: ["user-1", "user-2"] }],
      fallthrough: rollout,
      metadata: { owner: "ops" },
    },
    {
      ...base,
      key: "after-2030",
      rules: [
        {
          when: { attribute: "$flagd.timestamp", op: "after", values: ["2030-01-01T00:00:00Z"] },
          serve: { variant: "a" },
        },
      ],
    },
    {
      ...base,
      key: "needs-time",
      prerequisites: [{ flag: "after-2030", variant: "a" }],
      fallthrough: { variant: "b" },
    },
    {
      ...base,
      key: "needs-two",
      prerequisites: [
        { flag: "in-big", variant: "a" },
        { flag: "needs-time", variant: "b" },
      ],
      fallthrough: { variant: "a" },
    },
    { ...base, key: "logic", targeting: { if: [{ ">": [{ var: "age" }, 40] }, "a", "b"] } },
    { ...base, key: "hidden", clientVisible: false, fallthrough: { variant: "b" } },
    {
      type: "object",
      key: "object",
      variants: { on: { nested: [1, "two", { three: true }] }, off: {} },
      defaultVariant: "off",
      enabled: true,
      clientVisible: true,
      rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } }],
    },
  ],
};
const keys = doc.flags.map((f) => f.key);

const contextGen: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    targetingKey: fc.oneof(
      fc.integer({ min: 0, max: 1200 }).map((i) => `user-${i}`),
      fc.constant(""),
    ),
    plan: fc.constantFrom("pro", "free"),
    country: fc.constantFrom("DE", "US", "ZZ", "JP", "XX"),
    age: fc.integer({ min: 0, max: 80 }),
    email: fc.constantFrom("a@example.com", "b@other.test"),
  },
  { requiredKeys: [], noNullPrototype: true },
);

const NOW = [Date.parse("2029-06-01T00:00:00Z"), Date.parse("2031-06-01T00:00:00Z")];

describe("lazy compile", () => {
  const eager = compileEnvironment(doc);
  if (!eager.ok) throw new Error(JSON.stringify(eager.errors));

  it("answers exactly as the eager compile, whichever order flags are first evaluated in", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(keys, { minLength: keys.length }),
        fc.array(contextGen, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(...NOW),
        (order, contexts, now) => {
          const lazy = compileLazily(doc);
          expect(lazy.ok).toBe(true);
          if (!lazy.ok) return;
          for (const ctx of contexts) {
            for (const key of order) {
              expect(lazy.value.evaluate(key, ctx, { explain: true, now })).toEqual(
                eager.value.evaluate(key, ctx, { explain: true, now }),
              );
              expect(lazy.value.evaluate(key, ctx, { now })).toEqual(eager.value.evaluate(key, ctx, { now }));
            }
            expect(lazy.value.evaluateAll(ctx, { now })).toEqual(eager.value.evaluateAll(ctx, { now }));
            expect(lazy.value.evaluateAll(ctx, { now, clientOnly: true })).toEqual(
              eager.value.evaluateAll(ctx, { now, clientOnly: true }),
            );
          }
          expect(lazy.value.flags.map((f) => [f.key, f.clientVisible, f.timeDependent])).toEqual(
            eager.value.flags.map((f) => [f.key, f.clientVisible, f.timeDependent]),
          );
          expect(lazy.value.timeDependent).toBe(eager.value.timeDependent);
        },
      ),
      { seed: 20261203, numRuns: 150 },
    );
  });

  it("bulk first, then single evaluations, answers as the eager compile", () => {
    const lazy = compileLazily(doc);
    if (!lazy.ok) throw new Error("open failed");
    const ctx = { targetingKey: "user-3", plan: "pro", country: "ZZ" };
    expect(lazy.value.evaluateAll(ctx, { now: NOW[1] })).toEqual(eager.value.evaluateAll(ctx, { now: NOW[1] }));
    for (const key of keys)
      expect(lazy.value.evaluate(key, ctx, { now: NOW[1] })).toEqual(eager.value.evaluate(key, ctx, { now: NOW[1] }));
  });

  it("a string list compiled after a context value was looked up still matches it (the lookup memo is refreshed)", () => {
    const lazy = compileLazily(doc);
    if (!lazy.ok) throw new Error("open failed");
    const ctx = { country: "ZZ" };
    // "ZZ" is in no list compiled so far: the country table remembers "no id" for it.
    expect(lazy.value.evaluate("countries", ctx).variant).toBe("c");
    expect(lazy.value.evaluate("countries-later", ctx).variant).toBe("b");
  });

  it("parses and compiles only the evaluated flag, its prerequisites and their segments", () => {
    const parsed: number[] = [];
    const segments: string[] = [];
    let whole = 0;
    const inner = docSource(doc);
    let listed = 0;
    const counting: DocSource = {
      ...inner,
      get flagKeys() {
        listed++;
        return inner.flagKeys;
      },
      flagAt: (i) => (parsed.push(i), inner.flagAt(i)),
      allFlags: () => (whole++, inner.allFlags()),
      segment: (k) => (segments.push(k), inner.segment(k)),
    };
    const lazy = openEnvironment(counting);
    if (!lazy.ok) throw new Error("open failed");
    expect(lazy.value.evaluate("needs-two", { targetingKey: "user-3" }, { now: NOW[1] }).variant).toBe("a");
    expect(parsed.map((i) => keys[i]).sort()).toEqual(["after-2030", "in-big", "needs-time", "needs-two"]);
    expect(segments).toEqual(["big"]);
    expect(whole).toBe(0);
    expect(listed).toBe(0); // found by key: no list of every key before the first answer
    lazy.value.evaluate("in-big", { targetingKey: "user-3" });
    expect(parsed).toHaveLength(4); // compiled with needs-two already
    // Bulk reads the rest in one go.
    lazy.value.evaluateAll({});
    expect(whole).toBe(1);
    expect(parsed).toHaveLength(4);
  });

  it("finds flags alike before and after the key index turns into a Map (past 16 keys), a key defined twice too", () => {
    const many: EnvironmentDoc = {
      segments: [],
      flags: Array.from({ length: 40 }, (_, i) => ({
        ...base,
        key: `f${i}`,
        fallthrough: { variant: i % 2 ? "a" : "b" },
      })),
    };
    const withTwice = (key: string): EnvironmentDoc => ({ ...many, flags: [...many.flags, { ...base, key }] });
    for (const twice of ["f3", "f37"]) {
      const lazy = compileLazily(withTwice(twice));
      if (!lazy.ok) throw new Error("open failed");
      for (const key of [...many.flags.map((f) => f.key), "nope", "f1 f2", "f1/1"]) {
        const r = lazy.value.evaluate(key, {});
        if (key === twice) expect(r.errorMessage).toContain(`flags[40].key: duplicate flag key "${twice}"`);
        else if (key.startsWith("f") && !key.includes(" ") && !key.includes("/"))
          expect(r).toMatchObject({ key, variant: Number(key.slice(1)) % 2 ? "a" : "b" });
        else expect(r.errorCode).toBe("FLAG_NOT_FOUND");
      }
    }
  });

  it("a key defined twice answers PARSE_ERROR with the eager compile's issue, as does a flag needing it; single and bulk alike", () => {
    const bad = { ...doc, flags: [...doc.flags, { ...doc.flags[3]!, fallthrough: { variant: "b" } }] };
    const eagerErrors = compileEnvironment(bad);
    expect(eagerErrors.ok).toBe(false);
    if (eagerErrors.ok) return;
    expect(eagerErrors.errors).toEqual([
      { path: `flags[${doc.flags.length}].key`, message: 'duplicate flag key "in-big"' },
    ]);
    const single = compileLazily(bad),
      bulk = compileLazily(bad);
    if (!single.ok || !bulk.ok) throw new Error("open failed");
    const all = bulk.value.evaluateAll({ targetingKey: "user-3" }, { now: NOW[1] });
    expect(all.map((r) => r.key)).toEqual(keys);
    for (const [i, key] of keys.entries()) {
      const r = single.value.evaluate(key, { targetingKey: "user-3" }, { now: NOW[1] });
      expect(all[i]).toEqual(r);
      if (key === "in-big" || key === "needs-two")
        expect(r.errorMessage).toContain(`flags[${doc.flags.length}].key: duplicate flag key "in-big"`);
      else expect(r).toEqual(eager.value.evaluate(key, { targetingKey: "user-3" }, { now: NOW[1] }));
    }
  });
});

describe("lazy compile of broken definitions", () => {
  const flag = (key: string, extra: Partial<Flag> = {}): Flag => ({ ...base, key, ...extra });
  const broken: EnvironmentDoc = {
    segments: [
      { key: "loop-a", included: [], excluded: [], rules: [{ segment: "loop-b" }] },
      { key: "loop-b", included: [], excluded: [], rules: [{ segment: "loop-a" }] },
    ],
    flags: [
      flag("fine", { fallthrough: { variant: "b" } }),
      flag("bad-regex", {
        rules: [{ when: { attribute: "email", op: "matches", values: ["(a+)+$"] }, serve: { variant: "a" } }],
      }),
      flag("needs-bad-regex", { prerequisites: [{ flag: "bad-regex", variant: "a" }] }),
      flag("needs-needs-bad", { prerequisites: [{ flag: "needs-bad-regex", variant: "a" }] }),
      flag("needs-missing", { prerequisites: [{ flag: "nowhere", variant: "a" }] }),
      flag("needs-wrong-variant", { prerequisites: [{ flag: "fine", variant: "zzz" }] }),
      flag("cycle-a", { prerequisites: [{ flag: "cycle-b", variant: "a" }] }),
      flag("cycle-b", { prerequisites: [{ flag: "cycle-a", variant: "a" }] }),
      flag("unknown-segment", { rules: [{ when: { segment: "nope" }, serve: { variant: "a" } }] }),
      flag("segment-cycle", { rules: [{ when: { segment: "loop-a" }, serve: { variant: "a" } }] }),
      flag("disabled-broken", { enabled: false, rules: [{ when: { segment: "nope" }, serve: { variant: "a" } }] }),
      flag("needs-fine", { prerequisites: [{ flag: "fine", variant: "b" }], fallthrough: { variant: "a" } }),
    ],
  };
  const expectations: Record<string, string | undefined> = {
    fine: undefined,
    "bad-regex": "flags.bad-regex.rules[0].when",
    "needs-bad-regex": "flags.bad-regex.rules[0].when",
    "needs-needs-bad": "flags.bad-regex.rules[0].when",
    "needs-missing": 'flags.needs-missing.prerequisites[0].flag: unknown flag "nowhere"',
    "needs-wrong-variant": 'flags.needs-wrong-variant.prerequisites[0].variant: flag fine has no variant "zzz"',
    "cycle-a": "prerequisite cycle: cycle-a → cycle-b → cycle-a",
    "cycle-b": "prerequisite cycle: cycle-",
    "unknown-segment": 'unknown segment "nope"',
    "segment-cycle": "segment cycle: loop-a → loop-b → loop-a",
    "needs-fine": undefined,
  };
  const brokenKeys = broken.flags.map((f) => f.key);

  it("is refused whole by the eager compile; each issue it lists is named by the lazy answer of the flag it is about", () => {
    const eager = compileEnvironment(broken);
    expect(eager.ok).toBe(false);
    const lazy = compileLazily(broken);
    if (eager.ok || !lazy.ok) throw new Error("unexpected compile results");
    expect(eager.errors.length).toBeGreaterThan(2);
    for (const issue of eager.errors) {
      const key = /^flags\.([^.]+)/.exec(issue.path)![1]!;
      expect(lazy.value.evaluate(key, {}).errorMessage).toContain(`${issue.path}: ${issue.message}`);
    }
  });

  it("answers PARSE_ERROR for each flag whose definition or prerequisites are broken, the same whichever flag compiles first", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(brokenKeys, { minLength: brokenKeys.length }), (order) => {
        const lazy = compileLazily(broken);
        expect(lazy.ok).toBe(true);
        if (!lazy.ok) return;
        const answers = new Map(order.map((k) => [k, lazy.value.evaluate(k, { email: "aaaa" })]));
        for (const [key, want] of Object.entries(expectations)) {
          const r = answers.get(key)!;
          if (want === undefined) {
            expect(r.reason, key).not.toBe("ERROR");
          } else {
            expect(r, key).toMatchObject({ reason: "ERROR", errorCode: "PARSE_ERROR" });
            expect(r.errorMessage, key).toContain(`Invalid configuration for flag '${key}'`);
            expect(r.errorMessage, key).toContain(want);
          }
        }
        // Disabled still wins, as for invalid targeting in "parse-error" mode.
        expect(answers.get("disabled-broken")!.reason).toBe("DISABLED");
        expect(answers.get("needs-fine")!.variant).toBe("a");
        // Bulk answers the same per flag.
        const all = lazy.value.evaluateAll({ email: "aaaa" });
        expect(all.map((r) => r.key)).toEqual(brokenKeys);
        brokenKeys.forEach((k, i) => expect(all[i]).toEqual(answers.get(k)));
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it("bulk first gives each flag the same answer as single evaluation first", () => {
    const a = compileLazily(broken),
      b = compileLazily(broken);
    if (!a.ok || !b.ok) throw new Error("open failed");
    const bulk = a.value.evaluateAll({ email: "aaaa" });
    brokenKeys.forEach((k, i) => expect(bulk[i]).toEqual(b.value.evaluate(k, { email: "aaaa" })));
  });

  it("a definition whose text does not parse answers PARSE_ERROR; the others answer", () => {
    const inner = docSource({ flags: [flag("ok"), flag("garbled")], segments: [] });
    const lazy = openEnvironment({
      ...inner,
      flagAt: (i) => (i === 1 ? undefined : inner.flagAt(i)),
      allFlags: () => [inner.flagAt(0), undefined],
    });
    if (!lazy.ok) throw new Error("open failed");
    expect(lazy.value.evaluate("garbled", {})).toMatchObject({
      reason: "ERROR",
      errorCode: "PARSE_ERROR",
      errorMessage: expect.stringContaining("cannot be read"),
    });
    expect(lazy.value.evaluate("ok", {})).toMatchObject({ reason: "STATIC", variant: "c" });
    expect(lazy.value.evaluateAll({}).map((r) => r.reason)).toEqual(["STATIC", "ERROR"]);
  });
});
