import { readFileSync } from "node:fs";
import { FlagdCore, MemoryStorage } from "@openfeature/flagd-core";
import { describe, expect, it } from "vitest";
import { exportFlagd } from "../../src/core/flagd/export";
import { importFlagd } from "../../src/core/flagd/import";
import fc from "fast-check";
import { compileEnvironment } from "../../src/core/compile";
import {
  EnvironmentDoc,
  FLAG_TYPES,
  type Condition,
  type EnvironmentDocInput,
  type FlagInput,
  type FlagType,
  type Serve,
} from "../../src/core/model";
import type { EvaluationContext, EvaluationResult, JsonValue } from "../../src/core/evaluation-types";

const SILENT = { error() {}, warn() {}, info() {}, debug() {} };

/** A native document using every native feature once. */
function fullDoc(): EnvironmentDoc {
  const input: EnvironmentDocInput = {
    metadata: { flagSetId: "shop", version: "7" },
    evaluators: { legacy: { "==": [{ var: "legacy" }, true] } },
    segments: [
      {
        key: "staff",
        included: ["alice"],
        excluded: ["mallory"],
        rules: [{ attribute: "email", op: "endsWith", values: ["@shop.example"] }],
      },
      { key: "beta", rules: [{ segment: "staff" }, { attribute: "plan", op: "in", values: ["beta", "pilot"] }] },
      { key: "empty" },
    ],
    flags: [
      {
        key: "checkout",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        clientVisible: true,
        description: "New checkout",
        tags: ["web", "q4"],
        metadata: { owner: "shop" },
        targets: [
          { variant: "on", values: ["user-1", "user-2"] },
          { variant: "off", values: [] },
        ],
        rules: [
          { id: "staff", when: { segment: "staff" }, serve: { variant: "on" } },
          {
            when: {
              all: [
                { attribute: "country", op: "in", values: ["DE", "AT"] },
                { not: { attribute: "plan", op: "equals", values: ["free"] } },
              ],
            },
            serve: {
              rollout: {
                variants: [
                  { variant: "on", weight: 50 },
                  { variant: "off", weight: 50 },
                ],
              },
            },
          },
        ],
        fallthrough: { variant: "off" },
      },
      {
        key: "banner",
        type: "string",
        variants: { a: "A", b: "B", c: "C" },
        defaultVariant: null,
        rules: [
          {
            when: {
              any: [
                { attribute: "email", op: "startsWith", values: ["admin@"] },
                { attribute: "email", op: "contains", values: ["+test"] },
              ],
            },
            serve: { variant: "a" },
          },
          { when: { attribute: "appVersion", op: "semverGte", values: ["2.1.0"] }, serve: { variant: "b" } },
          { when: { attribute: "name", op: "matches", values: ["^x"] }, serve: { variant: "c" } },
        ],
        fallthrough: {
          rollout: {
            bucketBy: "sessionId",
            variants: [
              { variant: "a", weight: 1 },
              { variant: "b", weight: 1 },
              { variant: "c", weight: 2 },
            ],
          },
        },
        prerequisites: [{ flag: "checkout", variant: "on" }],
      },
      {
        key: "limit",
        type: "number",
        variants: { low: 10, high: 100 },
        defaultVariant: "low",
        enabled: false,
        rules: [{ when: { attribute: "age", op: "gte", values: [18] }, serve: { variant: "high" } }],
      },
      {
        key: "raw",
        type: "string",
        variants: { x: "x", y: "y" },
        defaultVariant: "x",
        targeting: { if: [{ $ref: "legacy" }, "y"] },
      },
      { key: "as-object", type: "object", variants: { s: "text", t: "more" }, defaultVariant: "s" },
      { key: "plain", type: "boolean", variants: { on: true }, defaultVariant: "on", rules: [] },
    ],
  };
  return EnvironmentDoc.parse(input);
}

const byKey = (doc: { flags: Record<string, unknown> }, key: string) =>
  doc.flags[key] as {
    targeting?: unknown;
    metadata?: Record<string, unknown>;
    state: string;
    defaultVariant?: unknown;
  };

describe("exportFlagd: native → flagd", () => {
  const { document, warnings } = exportFlagd(fullDoc());

  it("writes a flagd document with $schema, flag-set metadata and evaluators", () => {
    expect(document.$schema).toBe("https://flagd.dev/schema/v0/flags.json");
    expect(document.metadata).toEqual({ flagSetId: "shop", version: "7" });
    expect(Object.keys(document.flags)).toEqual(["checkout", "banner", "limit", "raw", "as-object", "plain"]);
    expect(Object.keys(document.$evaluators!)).toEqual([
      "legacy",
      "segment.staff",
      "segment.beta",
      "segment.empty",
      "edgeflags.segments",
    ]);
  });

  it("translates targets, segments, rules, rollouts and the fallthrough into one if chain", () => {
    expect(byKey(document, "checkout").targeting).toEqual({
      if: [
        { in: [{ var: "targetingKey" }, ["user-1", "user-2"]] },
        "on",
        { in: [{ var: "targetingKey" }, []] },
        "off",
        { $ref: "segment.staff" },
        "on",
        { and: [{ in: [{ var: "country" }, ["DE", "AT"]] }, { "!": { "===": [{ var: "plan" }, "free"] } }] },
        {
          fractional: [
            ["on", 50],
            ["off", 50],
          ],
        },
      ],
    });
    // The fallthrough serves the default variant: flagd's null result does that, reason DEFAULT.
  });

  it("maps string, semver and custom-bucket rollouts to flagd operators", () => {
    const t = byKey(document, "banner").targeting as { if: unknown[] };
    expect(t.if[0]).toEqual({
      or: [
        { starts_with: [{ var: "email" }, "admin@"] },
        { and: [{ starts_with: [{ var: "email" }, ""] }, { in: ["+test", { var: "email" }] }] },
      ],
    });
    expect(t.if[2]).toEqual({ sem_ver: [{ var: "appVersion" }, ">=", "2.1.0"] });
    expect(t.if[4]).toBe(false);
    const session = { var: "sessionId" };
    expect(t.if[6]).toEqual({
      if: [
        { and: [{ "!==": [session, true] }, { or: [session, { "===": [session, 0] }] }] },
        { fractional: [{ cat: [{ var: "$flagd.flagKey" }, session] }, ["a", 1], ["b", 1], ["c", 2]] },
        null,
      ],
    });
    expect(byKey(document, "banner").defaultVariant).toBeUndefined();
  });

  it("writes segments as evaluators: excluded wins, then included or any rule; nested segments inlined", () => {
    const ev = document.$evaluators!;
    const staff = {
      and: [
        { "!": { in: [{ var: "targetingKey" }, ["mallory"]] } },
        { or: [{ in: [{ var: "targetingKey" }, ["alice"]] }, { ends_with: [{ var: "email" }, "@shop.example"] }] },
      ],
    };
    expect(ev["segment.staff"]).toEqual(staff);
    expect(ev["segment.beta"]).toEqual({ or: [staff, { in: [{ var: "plan" }, ["beta", "pilot"]] }] });
    expect(ev["segment.empty"]).toEqual({ and: [false] });
  });

  it("exports raw JSON Logic unchanged and maps enabled:false to DISABLED", () => {
    expect(byKey(document, "raw").targeting).toEqual({ if: [{ $ref: "legacy" }, "y"] });
    expect(byKey(document, "limit").state).toBe("DISABLED");
    expect(byKey(document, "checkout").state).toBe("ENABLED");
  });

  it("keeps edgeflags-only fields in namespaced metadata beside the flag's own", () => {
    const meta = byKey(document, "checkout").metadata!;
    expect(meta).toMatchObject({
      owner: "shop",
      "edgeflags.clientVisible": true,
      "edgeflags.description": "New checkout",
    });
    expect(JSON.parse(meta["edgeflags.tags"] as string)).toEqual(["web", "q4"]);
    expect(JSON.parse(byKey(document, "banner").metadata!["edgeflags.prerequisites"] as string)).toEqual([
      { flag: "checkout", variant: "on" },
    ]);
    expect(byKey(document, "as-object").metadata).toEqual({ "edgeflags.type": "object" });
    expect(byKey(document, "raw").metadata).toBeUndefined();
  });

  it("warns, with paths, about what flagd evaluates differently", () => {
    expect(warnings).toEqual([
      { path: "flags.banner.rules[2].when", message: expect.stringContaining('"matches"') },
      { path: "flags.banner.prerequisites", message: expect.stringContaining("checkout=on") },
    ]);
  });

  it("translates date rules on $flagd.timestamp (seconds) and warns about other date rules and reserved metadata keys", () => {
    const doc = fullDoc();
    doc.flags[0]!.rules!.push(
      {
        when: { attribute: "$flagd.timestamp", op: "after", values: ["2030-01-01T00:00:00Z"] },
        serve: { variant: "on" },
      },
      { when: { attribute: "signupDate", op: "before", values: ["2020-01-01"] }, serve: { variant: "on" } },
    );
    doc.flags[0]!.metadata = { "edgeflags.type": "x" };
    const { document, warnings } = exportFlagd(doc);
    expect((byKey(document, "checkout").targeting as { if: unknown[] }).if[8]).toEqual({
      ">": [{ var: "$flagd.timestamp" }, 1893456000],
    });
    expect(warnings.map((w) => w.path)).toEqual([
      "flags.checkout.metadata.edgeflags.type",
      "flags.checkout.rules[3].when",
      "flags.banner.rules[2].when",
      "flags.banner.prerequisites",
    ]);
  });

  it.each([
    [
      "notEquals",
      { attribute: "plan", op: "notEquals", values: ["free"] },
      { and: [{ "!==": [{ var: "plan" }, null] }, { "!==": [{ var: "plan" }, "free"] }] },
    ],
    [
      "notIn",
      { attribute: "plan", op: "notIn", values: ["a", "b"] },
      { and: [{ "!==": [{ var: "plan" }, null] }, { "!": { in: [{ var: "plan" }, ["a", "b"]] } }] },
    ],
    [
      "endsWith, two values",
      { attribute: "email", op: "endsWith", values: ["@a", "@b"] },
      { or: [{ ends_with: [{ var: "email" }, "@a"] }, { ends_with: [{ var: "email" }, "@b"] }] },
    ],
    [
      "notContains",
      { attribute: "email", op: "notContains", values: ["x"] },
      { and: [{ starts_with: [{ var: "email" }, ""] }, { "!": { in: ["x", { var: "email" }] } }] },
    ],
    [
      "lt",
      { attribute: "age", op: "lt", values: [18] },
      {
        and: [
          { "!": { in: [{ var: "age" }, [null, true, false]] } },
          { "!": { starts_with: [{ var: "age" }, ""] } },
          { "<": [{ var: "age" }, 18] },
        ],
      },
    ],
    [
      "semverCaret",
      { attribute: "v", op: "semverCaret", values: ["2.0.0"] },
      { sem_ver: [{ var: "v" }, "^", "2.0.0"] },
    ],
  ] as const)("maps %s", (_label, when, logic) => {
    const doc = EnvironmentDoc.parse({
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          rules: [{ when, serve: { variant: "on" } }],
        },
      ],
    });
    expect(byKey(exportFlagd(doc).document, "f").targeting).toEqual({ if: [logic, "on"] });
  });

  it("warns when flag-set metadata breaks flagd's schema (flagSetId and version are strings there)", () => {
    const doc = fullDoc();
    doc.metadata = { flagSetId: 1, version: 2 };
    expect(exportFlagd(doc).warnings.filter((w) => w.path.startsWith("metadata."))).toEqual([
      { path: "metadata.flagSetId", message: expect.stringContaining("string") },
      { path: "metadata.version", message: expect.stringContaining("string") },
    ]);
  });

  it("exports a document that flagd-core's strict schema validation accepts", () => {
    const storage = new MemoryStorage(SILENT);
    expect(() => storage.setConfigurations(JSON.stringify(exportFlagd(fullDoc()).document), true)).not.toThrow();
    expect([...storage.getFlags().keys()]).toEqual(["checkout", "banner", "limit", "raw", "as-object", "plain"]);
  });

  it("a document without prerequisites or flagd-inexpressible operators exports without warnings", () => {
    const doc = fullDoc();
    doc.flags = doc.flags.filter((f) => f.key !== "banner");
    expect(exportFlagd(doc).warnings).toEqual([]);
  });
});

describe("export → import restores the native document", () => {
  it("round-trips every native feature structurally", () => {
    const original = fullDoc();
    const again = importFlagd(JSON.stringify(exportFlagd(original).document));
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(again.value).toEqual(original);
  });

  it("is idempotent: exporting the re-imported document gives the same flagd document", () => {
    const first = exportFlagd(fullDoc()).document;
    const again = importFlagd(first);
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(exportFlagd(again.value).document).toEqual(first);
  });

  it("keeps an edited JSON Logic targeting (and drops the stale native form)", () => {
    const { document } = exportFlagd(fullDoc());
    const edited = structuredClone(document);
    edited.flags.checkout!.targeting = { if: [{ "==": [{ var: "plan" }, "pro"] }, "on"] };
    const again = importFlagd(edited);
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    const checkout = again.value.flags.find((f) => f.key === "checkout")!;
    expect(checkout.targeting).toEqual({ if: [{ "==": [{ var: "plan" }, "pro"] }, "on"] });
    expect(checkout.rules).toBeUndefined();
    expect(checkout.targets).toBeUndefined();
    expect(checkout.clientVisible).toBe(true);
  });

  it("keeps a generated segment evaluator that edited JSON Logic still $refs", () => {
    const edited = structuredClone(exportFlagd(fullDoc()).document);
    edited.flags.checkout!.targeting = { if: [{ $ref: "segment.staff" }, "on"] };
    const again = importFlagd(edited, { strictRefs: true });
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(Object.keys(again.value.evaluators ?? {})).toEqual(["legacy", "segment.staff"]);
  });

  it("a flagd document (the example) survives import → export → import unchanged", () => {
    const first = importFlagd(readFileSync(new URL("../../examples/flags.flagd.json", import.meta.url), "utf8"));
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const { document, warnings } = exportFlagd(first.value);
    expect(warnings).toEqual([]);
    expect(importFlagd(JSON.stringify(document))).toEqual(first);
  });
});

describe("flagd-core 4.0.1 evaluates the exported JSON Logic as intended", () => {
  const core = new FlagdCore(undefined, SILENT);
  core.setConfigurations(JSON.stringify(exportFlagd(fullDoc()).document));
  const resolve = (key: string, ctx: Record<string, unknown>) =>
    core.resolve("boolean", key, false, ctx as never, SILENT);

  it.each([
    ["an individual target", { targetingKey: "user-2" }, true, "TARGETING_MATCH"],
    ["a segment member by email", { targetingKey: "bob", email: "bob@shop.example" }, true, "TARGETING_MATCH"],
    ["a segment member by inclusion", { targetingKey: "alice" }, true, "TARGETING_MATCH"],
    [
      "an excluded key, though its email matches",
      { targetingKey: "mallory", email: "m@shop.example", plan: "free" },
      false,
      "DEFAULT",
    ],
    ["nobody in particular: the fallthrough", { targetingKey: "zed", country: "US" }, false, "DEFAULT"],
  ])("checkout for %s", (_label, ctx, value, reason) => {
    const r = resolve("checkout", ctx);
    expect([r.value, r.reason]).toEqual([value, reason]);
  });

  it("splits a rollout rule roughly 50/50 by targetingKey, stable per key", () => {
    let on = 0;
    for (let i = 0; i < 2000; i++) {
      const ctx = { targetingKey: `u${i}`, country: "DE", plan: "pro" };
      const r = resolve("checkout", ctx);
      expect(resolve("checkout", ctx).value).toBe(r.value);
      if (r.value) on++;
    }
    expect(on).toBeGreaterThan(900);
    expect(on).toBeLessThan(1100);
  });

  it.each([
    ["after a past date", "after", "2020-01-01T00:00:00Z", true],
    ["after a future date", "after", "2999-01-01T00:00:00Z", false],
    ["before a future date", "before", "2999-01-01", true],
    ["before a past date", "before", Date.parse("2020-01-01T00:00:00Z"), false],
  ] as const)("reads a $flagd.timestamp rule %s as the native engine does", (_label, op, date, expected) => {
    const doc = EnvironmentDoc.parse({
      flags: [
        {
          key: "t",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          rules: [{ when: { attribute: "$flagd.timestamp", op, values: [date] }, serve: { variant: "on" } }],
        },
      ],
    });
    const flagd = new FlagdCore(undefined, SILENT);
    flagd.setConfigurations(JSON.stringify(exportFlagd(doc).document));
    const env = compileEnvironment(doc);
    if (!env.ok) throw new Error(JSON.stringify(env.errors));
    expect(env.value.evaluate("t", {}).value).toBe(expected);
    expect(flagd.resolve("boolean", "t", false, {}, SILENT).value).toBe(expected);
  });

  it.each([
    ["static: exported as flagd's default variant", [], undefined, "STATIC"],
    [
      "behind a prerequisite: an if that always serves it",
      [{ flag: "t", variant: "off" }],
      { if: [true, "on"] },
      "TARGETING_MATCH",
    ],
  ] as const)(
    "serves a fixed fallthrough variant other than the default (%s)",
    (_label, prerequisites, targeting, reason) => {
      const doc = EnvironmentDoc.parse({
        flags: [
          { key: "t", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off" },
          {
            key: "f",
            type: "boolean",
            variants: { on: true, off: false },
            defaultVariant: "off",
            fallthrough: { variant: "on" },
            prerequisites: [...prerequisites],
          },
        ],
      });
      const { document } = exportFlagd(doc);
      expect(byKey(document, "f").targeting).toEqual(targeting);
      const flagd = new FlagdCore(undefined, SILENT);
      flagd.setConfigurations(JSON.stringify(document));
      expect(flagd.resolve("boolean", "f", false, {}, SILENT)).toMatchObject({ value: true, variant: "on", reason });
      const again = importFlagd(document);
      expect(again.ok && again.value).toEqual(doc);
    },
  );

  it("answers DISABLED for a disabled flag", () => {
    expect(core.resolve("number", "limit", 0, { age: 30 }, SILENT).reason).toBe("DISABLED");
  });
});

// ---------------------------------------------------------------------------------------------
// Generated documents (fast-check, fixed seed): export → import must evaluate exactly as the
// original, and flagd-core must evaluate the exported JSON Logic as our engine evaluates the
// native definitions.

const TKEYS = ["u0", "u1", "u2", "u3", "u4", "u5"] as const;
const VARIANT_KEYS = ["a", "b", "c"] as const;
const VALUES: Record<FlagType, JsonValue[]> = {
  boolean: [true, false, true],
  string: ["alpha", "beta", ""],
  number: [0, 2.5, 100],
  object: [{ theme: "light" }, { theme: "dark", size: 2 }, {}],
};
const pool = {
  email: ["ann@shop.example", "bob@partner.example", "admin@corp.test", "c+test@mail.test", "Zed@SHOP.example"],
  plan: ["free", "pro", "beta"],
  country: ["DE", "AT", "US"],
  version: ["1.0.0", "2.1.0", "2.1.5", "3.0.0", "v2.0.0", "2.1", "not-a-version"],
  tier: ["gold", "silver"],
  session: ["s1", "s2", "s3", "s4"],
};

interface GenOptions {
  /** Only what flagd can express: no prerequisites, regex or date operators. */
  flagdSafe: boolean;
}

function conditionArb(opts: GenOptions, segmentKeys: readonly string[]): fc.Arbitrary<Condition> {
  const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
  const some = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1 });
  const leaves: fc.Arbitrary<Condition>[] = [
    fc.record({
      attribute: fc.constant("email"),
      op: pick(["equals", "notEquals", "startsWith", "endsWith", "contains", "notContains"] as const),
      values: pick(["ann@shop.example", "admin", "@shop.example", "+test", "b"]).map((v) => [v]),
    }),
    fc.record({
      attribute: pick(["plan", "country"]),
      op: pick(["in", "notIn"] as const),
      values: some([...pool.plan, ...pool.country]),
    }),
    fc.record({
      attribute: fc.constant("plan"),
      op: pick(["equals", "notEquals"] as const),
      values: pick(pool.plan).map((v) => [v]),
    }),
    fc.record({
      attribute: fc.constant("age"),
      op: pick(["lt", "lte", "gt", "gte"] as const),
      values: fc.integer({ min: 10, max: 60 }).map((v) => [v]),
    }),
    fc.record({
      attribute: fc.constant("version"),
      op: pick([
        "semverEq",
        "semverNeq",
        "semverLt",
        "semverLte",
        "semverGt",
        "semverGte",
        "semverTilde",
        "semverCaret",
      ] as const),
      values: pick(["2.1.0", "v2.0.0", "3", "2.1", "2.1.0-rc.1+b7"]).map((v) => [v]),
    }),
    fc.record({
      attribute: fc.constant("user.tier"),
      op: fc.constant("equals" as const),
      values: pick(pool.tier).map((v) => [v]),
    }),
  ];
  if (segmentKeys.length > 0) leaves.push(pick(segmentKeys).map((segment) => ({ segment })));
  if (!opts.flagdSafe) {
    leaves.push(
      fc.record({
        attribute: fc.constant("email"),
        op: fc.constant("matches" as const),
        values: pick(["^ann", "example$", "[0-9]"]).map((v) => [v]),
      }),
    );
    leaves.push(
      fc.record({
        attribute: fc.constant("signup"),
        op: pick(["before", "after"] as const),
        values: pick(["2026-01-01T00:00:00Z", "2020-06-01T00:00:00Z"]).map((v) => [v]),
      }),
    );
  }
  const leaf = fc.oneof(...leaves);
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((all) => ({ all })) },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((any) => ({ any })) },
    { weight: 1, arbitrary: leaf.map((not) => ({ not })) },
  );
}

function serveArb(variants: readonly string[]): fc.Arbitrary<Serve> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...variants).map((variant) => ({ variant })) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          bucketBy: fc.constantFrom(undefined, "targetingKey", "sessionId"),
          variants: fc.array(
            fc.record({ variant: fc.constantFrom(...variants), weight: fc.integer({ min: 0, max: 100 }) }),
            { minLength: 1, maxLength: 3 },
          ),
        })
        .map(({ bucketBy, variants: vs }) => {
          // A rollout needs a positive total weight to compile.
          if (vs.every((w) => w.weight === 0)) vs[0]!.weight = 1;
          return { rollout: bucketBy === undefined ? { variants: vs } : { bucketBy, variants: vs } };
        }),
    },
  );
}

const RAW_TARGETING: unknown[] = [
  {
    if: [
      { "==": [{ var: "plan" }, "pro"] },
      "a",
      {
        fractional: [
          ["b", 1],
          ["c", 1],
        ],
      },
    ],
  },
  { if: [{ $ref: "is_partner" }, "b", null] },
  { fractional: [{ cat: [{ var: "$flagd.flagKey" }, { var: "email" }] }, ["a", 50], ["b", 50]] },
  { if: [{ sem_ver: [{ var: "version" }, "^", "2.0.0"] }, "c"] },
];

function docArb(opts: GenOptions): fc.Arbitrary<EnvironmentDoc> {
  const segmentKeys = ["s0", "s1"];
  const segment = (key: string, earlier: string[]) =>
    fc.record({
      key: fc.constant(key),
      included: fc.subarray([...TKEYS]),
      excluded: fc.subarray([...TKEYS], { maxLength: 2 }),
      rules: fc.array(conditionArb(opts, earlier), { maxLength: 2 }),
    });
  const segments = fc.tuple(segment("s0", []), segment("s1", ["s0"])).chain(([s0, s1]) => fc.subarray([s0, s1]));

  const flag = (index: number) =>
    fc
      .record({
        type: fc.constantFrom(...FLAG_TYPES),
        count: fc.integer({ min: 1, max: 3 }),
        defaultVariant: fc.constantFrom<string | null>("a", "b", null),
        enabled: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        clientVisible: fc.boolean(),
        description: fc.option(fc.constant("generated"), { nil: undefined }),
        tags: fc.option(fc.constant(["gen"]), { nil: undefined }),
        metadata: fc.option(fc.constant({ owner: "gen", rank: index }), { nil: undefined }),
        raw: fc.oneof(
          { weight: 5, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom(...RAW_TARGETING) },
        ),
        targets: fc.option(
          fc.array(
            fc.record({ variant: fc.constantFrom("a", "b"), values: fc.subarray([...TKEYS], { maxLength: 2 }) }),
            { maxLength: 2 },
          ),
          { nil: undefined },
        ),
        rules: fc.option(
          fc.array(fc.record({ when: conditionArb(opts, segmentKeys), serve: serveArb(["a", "b", "c"]) }), {
            maxLength: 3,
          }),
          { nil: undefined },
        ),
        fallthrough: fc.option(serveArb(["a", "b", "c"]), { nil: undefined }),
        prerequisites:
          opts.flagdSafe || index === 0
            ? fc.constant(undefined)
            : fc.option(
                fc.array(
                  fc.record({
                    flag: fc.constantFrom(...Array.from({ length: index }, (_, j) => `f${j}`)),
                    variant: fc.constantFrom("a", "b"),
                  }),
                  { minLength: 1, maxLength: 2 },
                ),
                { nil: undefined },
              ),
      })
      .map((g): FlagInput => {
        // Three variant keys always exist so rules can name any of them; `count` varies the values.
        const variants = Object.fromEntries(VARIANT_KEYS.map((k, i) => [k, VALUES[g.type][(i + g.count) % 3]!]));
        const base: FlagInput = {
          key: `f${index}`,
          type: g.type,
          variants,
          defaultVariant: g.defaultVariant,
          enabled: g.enabled,
          clientVisible: g.clientVisible,
        };
        if (g.description) base.description = g.description;
        if (g.tags) base.tags = [...g.tags];
        if (g.metadata) base.metadata = g.metadata;
        if (g.prerequisites) base.prerequisites = g.prerequisites;
        if (g.raw !== undefined) return { ...base, targeting: g.raw };
        if (g.targets) base.targets = g.targets;
        if (g.rules) base.rules = g.rules;
        if (g.fallthrough) base.fallthrough = g.fallthrough;
        return base;
      });

  return fc
    .record({
      segments,
      flags: fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => flag(i)))),
      metadata: fc.option(fc.constant({ flagSetId: "gen", version: "1", build: 42 }), { nil: undefined }),
    })
    .map(({ segments, flags, metadata }) => {
      const usedSegments = new Set(segments.map((s) => s.key));
      const input: EnvironmentDocInput = {
        // Rules may only name segments that exist; drop flags' segment conditions otherwise.
        flags: flags.map((f) =>
          f.rules
            ? { ...f, rules: f.rules.filter((r) => segmentsOf(r.when as Condition).every((s) => usedSegments.has(s))) }
            : f,
        ),
        segments: segments.map((s) => ({
          ...s,
          rules: s.rules.filter((c) => segmentsOf(c).every((k) => usedSegments.has(k))),
        })),
        evaluators: { is_partner: { ends_with: [{ var: "email" }, "@partner.example"] } },
      };
      if (metadata) input.metadata = metadata;
      return EnvironmentDoc.parse(input);
    });
}

function segmentsOf(c: Condition): string[] {
  if ("segment" in c) return [c.segment];
  if ("all" in c) return c.all.flatMap(segmentsOf);
  if ("any" in c) return c.any.flatMap(segmentsOf);
  if ("not" in c) return segmentsOf(c.not);
  return [];
}

const contextArb: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    targetingKey: fc.constantFrom(...TKEYS, "stranger"),
    email: fc.constantFrom(...pool.email),
    plan: fc.constantFrom(...pool.plan),
    country: fc.constantFrom(...pool.country),
    age: fc.integer({ min: 0, max: 90 }),
    version: fc.constantFrom(...pool.version),
    user: fc.constantFrom(...pool.tier).map((tier) => ({ tier })),
    sessionId: fc.constantFrom(...pool.session),
    signup: fc.constantFrom("2025-03-01T00:00:00Z", "2019-01-01T00:00:00Z"),
  },
  { requiredKeys: [] },
);

const NOW = Date.parse("2026-06-01T12:00:00Z");
const RUNS = 300;

/** What must survive: everything an OFREP answer carries. */
function answer(r: EvaluationResult) {
  return { value: r.value, variant: r.variant, reason: r.reason, errorCode: r.errorCode, metadata: r.metadata };
}

function compileOrThrow(doc: EnvironmentDoc) {
  const env = compileEnvironment(doc);
  if (!env.ok) throw new Error("generated document does not compile: " + JSON.stringify(env.errors));
  return env.value;
}

describe("generated documents (fast-check, fixed seed)", () => {
  it(`export → import evaluates exactly as the original (${RUNS} documents)`, () => {
    fc.assert(
      fc.property(
        docArb({ flagdSafe: false }),
        fc.array(contextArb, { minLength: 5, maxLength: 5 }),
        (doc, contexts) => {
          const original = compileOrThrow(doc);
          const exported = exportFlagd(doc);
          new MemoryStorage(SILENT).setConfigurations(JSON.stringify(exported.document), true);
          const again = importFlagd(JSON.stringify(exported.document));
          if (!again.ok) throw new Error(JSON.stringify(again.errors));
          // Structurally the same document, and exporting it again gives the same flagd document.
          expect(again.value).toEqual(doc);
          expect(exportFlagd(again.value)).toEqual(exported);
          const restored = compileOrThrow(again.value);
          expect(restored.flags.map((f) => [f.key, f.type, f.clientVisible])).toEqual(
            original.flags.map((f) => [f.key, f.type, f.clientVisible]),
          );
          for (const ctx of contexts) {
            for (const f of original.flags) {
              expect(answer(restored.evaluate(f.key, ctx, { now: NOW }))).toEqual(
                answer(original.evaluate(f.key, ctx, { now: NOW })),
              );
            }
          }
          // Every prerequisite and every flagd-inexpressible operator is reported.
          const prerequisiteFlags = doc.flags
            .filter((f) => (f.prerequisites?.length ?? 0) > 0)
            .map((f) => `flags.${f.key}.prerequisites`);
          for (const p of prerequisiteFlags) expect(exported.warnings.map((w) => w.path)).toContain(p);
        },
      ),
      { seed: 20261125, numRuns: RUNS },
    );
  }, 60_000);

  it(`flagd-core evaluates the exported JSON Logic as our engine evaluates the native flags (${RUNS} documents)`, () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        docArb({ flagdSafe: true }),
        fc.array(contextArb, { minLength: 5, maxLength: 5 }),
        (doc, contexts) => {
          // Only native targeting here: raw JSON Logic is the conformance suite's business.
          doc.flags = doc.flags.filter((f) => f.targeting === undefined);
          if (doc.flags.length === 0) return;
          const ours = compileOrThrow(doc);
          const { document, warnings } = exportFlagd(doc);
          expect(warnings).toEqual([]);
          // Valid for flagd's own schema too (strict validation throws otherwise).
          new MemoryStorage(SILENT).setConfigurations(JSON.stringify(document), true);
          const core = new FlagdCore(undefined, SILENT);
          core.setConfigurations(JSON.stringify(document));
          for (const ctx of contexts) {
            for (const flag of doc.flags) {
              const mine = ours.evaluate(flag.key, ctx, { now: NOW });
              const theirs = core.resolve(flag.type, flag.key, "<code default>" as never, ctx as never, SILENT);
              const label = JSON.stringify({ flag: flag.key, ctx, mine, theirs });
              expect(theirs.value, label).toEqual(mine.value ?? "<code default>");
              expect(theirs.variant, label).toBe(mine.variant);
              expect(theirs.reason, label).toBe(flagdReason(mine, flag));
              seen.set(mine.reason, (seen.get(mine.reason) ?? 0) + 1);
            }
          }
        },
      ),
      { seed: 20261125, numRuns: RUNS },
    );
    // The generated documents exercise every outcome, not just disabled flags and defaults.
    for (const reason of ["TARGETING_MATCH", "SPLIT", "DEFAULT", "STATIC", "DISABLED"])
      expect(seen.get(reason) ?? 0).toBeGreaterThan(20);
  }, 60_000);
});

/**
 * The reason flagd gives for our answer. flagd reports every non-null targeting result as
 * TARGETING_MATCH, so a rollout (SPLIT) and a fallthrough to a variant other than the default
 * keep value and variant but not the reason. (A flag serving one variant to everyone is STATIC in
 * both: export makes that variant flagd's default.)
 */
function flagdReason(mine: EvaluationResult, flag: EnvironmentDoc["flags"][number]): string {
  if (mine.reason === "SPLIT") return "TARGETING_MATCH";
  if (mine.reason === "DEFAULT" && mine.variant !== undefined && mine.variant !== flag.defaultVariant)
    return "TARGETING_MATCH";
  return mine.reason;
}
