/**
 * Bulk evaluation takes shortcuts (fixed answers without a call, common rule shapes read from
 * their parts, a memo of the last targeting key's hash blocks): it must answer exactly what
 * single evaluation answers, flag by flag, for every shape and for odd contexts.
 */
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { Flag } from "../../src/core/model";
import { murmur3, murmur3Finish, murmur3Prefix } from "../../src/core/murmur3";
import type { EvaluationContext } from "../../src/core/evaluation-types";

const base = {
  type: "string",
  variants: { a: "A", b: "B", c: "C" },
  defaultVariant: "c",
  enabled: true,
  clientVisible: false,
} as const;
const rollout = {
  rollout: {
    variants: [
      { variant: "a", weight: 30 },
      { variant: "b", weight: 70 },
    ],
  },
};
const three = {
  rollout: {
    variants: [
      { variant: "a", weight: 1 },
      { variant: "b", weight: 1 },
      { variant: "c", weight: 1 },
    ],
    bucketBy: "user.id",
  },
};

const flags: Flag[] = [
  { ...base, key: "static" },
  { ...base, key: "static-b", fallthrough: { variant: "b" } },
  {
    ...base,
    key: "disabled",
    enabled: false,
    rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "a" } }],
  },
  {
    ...base,
    key: "one-rule",
    rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "a" } }],
    fallthrough: { variant: "b" },
  },
  {
    ...base,
    key: "one-rule-no-fallthrough",
    rules: [{ when: { attribute: "country", op: "in", values: ["DE", "FR", "IT"] }, serve: { variant: "a" } }],
  },
  {
    ...base,
    key: "two-rules",
    rules: [
      { when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "a" } },
      { when: { attribute: "age", op: "gt", values: [30] }, serve: { variant: "b" } },
    ],
    fallthrough: rollout,
  },
  {
    ...base,
    key: "three-rules",
    rules: [
      { when: { attribute: "plan", op: "notEquals", values: ["free"] }, serve: { variant: "a" } },
      { when: { attribute: "age", op: "lte", values: [18] }, serve: { variant: "b" } },
      { when: { attribute: "country", op: "notIn", values: ["US"] }, serve: rollout },
    ],
  },
  { ...base, key: "rollout", fallthrough: rollout },
  { ...base, key: "rollout-nested", fallthrough: three },
  { ...base, key: "rollout-fl", fallthrough: rollout },
  {
    ...base,
    key: "rule-rollout",
    rules: [{ when: { attribute: "user.plan", op: "in", values: ["team", "pro"] }, serve: rollout }],
    fallthrough: rollout,
  },
  { ...base, key: "targets", targets: [{ variant: "b", values: ["u1", "u2"] }], fallthrough: rollout },
  { ...base, key: "prereq", prerequisites: [{ flag: "one-rule", variant: "a" }], fallthrough: { variant: "a" } },
  {
    ...base,
    key: "in-strings",
    rules: [
      {
        when: { attribute: "country", op: "in", values: ["DE", "FR", "IT", "ES", "PT", "NL"] },
        serve: { variant: "a" },
      },
      { when: { attribute: "email", op: "startsWith", values: ["u1"] }, serve: { variant: "b" } },
    ],
  },
  // Compiled after "in-strings": its new country ids lie past that flag's bitset.
  {
    ...base,
    key: "in-strings-later",
    rules: [
      {
        when: { attribute: "country", op: "in", values: ["JP", "US", "BR", "CN", "IN", "DE"] },
        serve: { variant: "b" },
      },
    ],
  },
  {
    ...base,
    key: "in-mixed",
    rules: [{ when: { attribute: "age", op: "in", values: [10, 20, 30, 40, 50, "60"] }, serve: { variant: "b" } }],
  },
  { ...base, key: "logic", targeting: { if: [{ ">": [{ var: "age" }, 40] }, "a", "b"] } },
];

const contexts: EvaluationContext[] = [
  {},
  { targetingKey: "u1" },
  { targetingKey: "u2", plan: "pro", age: 50 },
  // A non-string targeting key (untyped input): rollouts bucket its string form.
  { targetingKey: 42, plan: "free", country: "US", age: 10 } as unknown as EvaluationContext,
  { targetingKey: "ünïcode-kéy", email: "x@example.com", country: "DE" },
  { targetingKey: "", plan: null, age: Infinity, country: ["DE"] },
  { targetingKey: "abc", age: "not a number", user: { id: "u-7", plan: "team" } },
];
for (let i = 0; i < 300; i++) {
  contexts.push({
    targetingKey: `user-${(i * 2654435761) % 1000003}-${i}`,
    email: i % 3 === 0 ? `u${i}@example.com` : `u${i}@other.test`,
    plan: ["free", "pro", "team"][i % 3],
    country: ["DE", "US", "FR", "JP"][i % 4],
    age: 10 + (i % 50),
    user: { id: `id-${i}`, plan: ["team", "free"][i % 2] },
  });
}

describe("evaluateAll", () => {
  const compiled = compileEnvironment({ flags, segments: [] });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const env = compiled.value;

  it("answers, flag by flag, the very results evaluate answers", () => {
    let rollouts = 0;
    for (const ctx of contexts) {
      const all = env.evaluateAll(ctx);
      expect(all.map((r) => r.key)).toEqual(flags.map((f) => f.key));
      flags.forEach((f, i) => {
        expect(all[i]).toBe(env.evaluate(f.key, ctx));
        if (all[i]!.reason === "SPLIT") rollouts++;
      });
    }
    // The comparison covered rollouts, bucketed both from the memo and from the string.
    expect(rollouts).toBeGreaterThan(500);
  });

  it("tests string lists (bitsets over shared ids) and prefixes as plain comparisons do", () => {
    const at = (key: string) => flags.findIndex((f) => f.key === key);
    const [early, later, mixed] = [at("in-strings"), at("in-strings-later"), at("in-mixed")];
    let hits = 0;
    for (const ctx of contexts) {
      const all = env.evaluateAll(ctx);
      const country = ctx.country,
        email = ctx.email,
        age = ctx.age;
      const inEarly = typeof country === "string" && ["DE", "FR", "IT", "ES", "PT", "NL"].includes(country);
      const prefixed = typeof email === "string" && email.startsWith("u1");
      expect(all[early]!.variant).toBe(inEarly ? "a" : prefixed ? "b" : "c");
      expect(all[later]!.variant).toBe(
        typeof country === "string" && ["JP", "US", "BR", "CN", "IN", "DE"].includes(country) ? "b" : "c",
      );
      expect(all[mixed]!.variant).toBe([10, 20, 30, 40, 50, "60"].includes(age as number) ? "b" : "c");
      if (inEarly) hits++;
    }
    expect(hits).toBeGreaterThan(50);
  });
});

describe("murmur3Finish memo", () => {
  it("hashes a repeated suffix after prefixes of every alignment exactly as a fresh hash", () => {
    const suffixes = ["user-123456-789", "ab", "", "é-ü-€-😀-long-enough", "x".repeat(33), "key-".repeat(100), "short"];
    const prefixes = ["", "f", "fl", "fla", "flag", "flag-", "flag-12", "ü"];
    for (const s of suffixes) {
      for (let round = 0; round < 3; round++) {
        for (const p of prefixes) expect(murmur3Finish(murmur3Prefix(p), s)).toBe(murmur3(p + s));
      }
    }
  });
});
