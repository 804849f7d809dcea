import { readFileSync } from "node:fs";
import { FlagdCore, MemoryStorage } from "@openfeature/flagd-core";
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { importFlagd } from "../../src/core/flagd/import";
import type { EnvironmentDoc } from "../../src/core/model";
import type { Issue, Result } from "../../src/core/result";
import type { EvaluationContext } from "../../src/core/evaluation-types";

const TESTKIT = "/work/shared/conformance/flagd-testbed/testkit-flags.json";
const EXAMPLE = new URL("../../examples/flags.flagd.json", import.meta.url);
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };

const flag = (over: Record<string, unknown> = {}) => ({
  state: "ENABLED",
  variants: { on: true, off: false },
  defaultVariant: "on",
  ...over,
});
const docWith = (def: unknown, extra: Record<string, unknown> = {}) => ({ flags: { f: def }, ...extra });

function errorsOf(r: Result<EnvironmentDoc>): Issue[] {
  if (r.ok) throw new Error("expected the import to fail");
  return r.errors;
}
function valueOf(r: Result<EnvironmentDoc>): EnvironmentDoc {
  if (!r.ok) throw new Error("import failed: " + JSON.stringify(r.errors));
  return r.value;
}

describe("importFlagd: documents that must import", () => {
  it("accepts every flag of the flagd testbed's testkit-flags.json", () => {
    const text = readFileSync(TESTKIT, "utf8");
    const doc = valueOf(importFlagd(text));
    const source = JSON.parse(text) as {
      flags: Record<string, { state: string; targeting?: unknown }>;
      $evaluators: unknown;
    };
    expect(doc.flags.map((f) => f.key)).toEqual(Object.keys(source.flags));
    expect(doc.evaluators).toEqual(source.$evaluators);
    for (const f of doc.flags) {
      expect(f.enabled).toBe(source.flags[f.key]!.state === "ENABLED");
      expect(f.targeting).toEqual(source.flags[f.key]!.targeting);
    }
  });

  it("accepts the example document, from text and from an object alike", () => {
    const text = readFileSync(EXAMPLE, "utf8");
    const fromText = valueOf(importFlagd(text));
    expect(valueOf(importFlagd(JSON.parse(text)))).toEqual(fromText);
    expect(fromText.flags).toHaveLength(10);
    expect(fromText.metadata).toEqual({ flagSetId: "shop-web", owner: "storefront-team", version: "3" });
    expect(Object.keys(fromText.evaluators ?? {})).toEqual(["is_staff"]);
  });

  it.each([
    ["boolean", { a: true, b: false }],
    ["number", { a: 1, b: 0.5 }],
    ["string", { a: "x", b: "" }],
    ["object", { a: {}, b: { n: 1 } }],
    ["object", { a: "x", b: 1 }],
    ["object", { a: [1], b: [2] }],
  ])("infers type %s from variants %j", (type, variants) => {
    const doc = valueOf(importFlagd(docWith(flag({ variants, defaultVariant: "a" }))));
    expect(doc.flags[0]!.type).toBe(type);
  });

  it.each([
    ["null", { defaultVariant: null }],
    ["absent", { defaultVariant: undefined }],
    ["empty string", { defaultVariant: "" }],
  ])("keeps a %s defaultVariant as null", (_label, over) => {
    expect(valueOf(importFlagd(docWith(flag(over)))).flags[0]!.defaultVariant).toBeNull();
  });

  it.each([
    ["{}", {}, undefined],
    ["absent", undefined, undefined],
    ["null", null, undefined],
    ["JSON Logic", { if: [{ "==": [{ var: "a" }, 1] }, "on"] }, { if: [{ "==": [{ var: "a" }, 1] }, "on"] }],
  ])("targeting %s", (_label, targeting, expected) => {
    const f = valueOf(importFlagd(docWith(flag({ targeting })))).flags[0]!;
    expect(f.targeting).toEqual(expected);
    expect("targeting" in f).toBe(expected !== undefined);
  });

  it("maps state, keeps flag metadata, ignores $schema", () => {
    const doc = valueOf(
      importFlagd({
        $schema: "https://flagd.dev/schema/v0/flags.json",
        ...docWith(flag({ state: "DISABLED", metadata: { team: "a", n: 2, beta: true } })),
      }),
    );
    expect(doc.flags[0]).toMatchObject({
      key: "f",
      enabled: false,
      clientVisible: false,
      metadata: { team: "a", n: 2, beta: true },
    });
  });

  it("ignores the top-level `warnings` that edgeflags' export answers carry", () => {
    const doc = valueOf(
      importFlagd({ ...docWith(flag()), warnings: [{ path: "flags.f.prerequisites", message: "x" }] }),
    );
    expect(doc.flags.map((f) => f.key)).toEqual(["f"]);
  });

  it("accepts a $ref to a missing evaluator by default (flagd answers PARSE_ERROR for that flag)", () => {
    const input = docWith(flag({ targeting: { if: [{ $ref: "nope" }, "on"] } }));
    expect(valueOf(importFlagd(input)).flags[0]!.targeting).toEqual({ if: [{ $ref: "nope" }, "on"] });
  });
});

describe("importFlagd: errors name each problem's path", () => {
  const cases: [string, unknown, Issue[]][] = [
    ["not JSON", "{flags:", [{ path: "", message: expect.stringContaining("not valid JSON") }]],
    ["not an object", [1], [{ path: "", message: expect.stringContaining("JSON object") }]],
    ["missing flags", {}, [{ path: "flags", message: expect.stringContaining("required") }]],
    ["flags not an object", { flags: [] }, [{ path: "flags", message: expect.stringContaining("must be an object") }]],
    [
      "unknown top-level key",
      { flags: {}, flag: {} },
      [{ path: "flag", message: expect.stringContaining("unknown top-level key") }],
    ],
    ["$schema not a string", { flags: {}, $schema: 1 }, [{ path: "$schema", message: expect.any(String) }]],
    [
      "bad flag key",
      { flags: { "my flag": flag() } },
      [{ path: "flags.my flag", message: expect.stringContaining("flag key must match") }],
    ],
    [
      "flag not an object",
      { flags: { f: "on" } },
      [{ path: "flags.f", message: expect.stringContaining("must be an object") }],
    ],
    [
      "unknown flag property",
      docWith(flag({ description: "x" })),
      [{ path: "flags.f.description", message: expect.stringContaining("unknown flag property") }],
    ],
    [
      "missing state",
      docWith(flag({ state: undefined })),
      [{ path: "flags.f.state", message: expect.stringContaining("required") }],
    ],
    [
      "unknown state",
      docWith(flag({ state: "ON" })),
      [{ path: "flags.f.state", message: 'unknown state "ON": must be "ENABLED" or "DISABLED"' }],
    ],
    [
      "missing variants",
      docWith(flag({ variants: undefined, defaultVariant: undefined })),
      [{ path: "flags.f.variants", message: expect.stringContaining("required") }],
    ],
    [
      "non-object variants",
      docWith(flag({ variants: ["on"], defaultVariant: undefined })),
      [{ path: "flags.f.variants", message: expect.stringContaining("must be an object") }],
    ],
    [
      "empty variants",
      docWith(flag({ variants: {}, defaultVariant: undefined })),
      [{ path: "flags.f.variants", message: expect.stringContaining("at least one") }],
    ],
    [
      "bad variant key",
      docWith(flag({ variants: { "o n": 1 }, defaultVariant: undefined })),
      [{ path: "flags.f.variants.o n", message: expect.stringContaining("variant key must match") }],
    ],
    [
      "variant value not JSON",
      docWith(flag({ variants: { on: Number.NaN }, defaultVariant: undefined })),
      [{ path: "flags.f.variants.on", message: expect.stringContaining("JSON") }],
    ],
    [
      "defaultVariant not a variant",
      docWith(flag({ defaultVariant: "x" })),
      [{ path: "flags.f.defaultVariant", message: '"x" is not a variant (variants: on, off)' }],
    ],
    [
      "defaultVariant not a string",
      docWith(flag({ defaultVariant: 1 })),
      [{ path: "flags.f.defaultVariant", message: expect.any(String) }],
    ],
    [
      "metadata not an object",
      docWith(flag({ metadata: "x" })),
      [{ path: "flags.f.metadata", message: expect.stringContaining("must be an object") }],
    ],
    [
      "flag metadata value not scalar",
      docWith(flag({ metadata: { owner: { name: "x" } } })),
      [{ path: "flags.f.metadata.owner", message: expect.stringContaining("got an object") }],
    ],
    [
      "flag-set metadata value not scalar",
      { flags: {}, metadata: { tags: ["a"] } },
      [{ path: "metadata.tags", message: expect.stringContaining("got an array") }],
    ],
    [
      "$evaluators not an object",
      { flags: {}, $evaluators: [] },
      [{ path: "$evaluators", message: expect.any(String) }],
    ],
    [
      "bad edgeflags extension",
      docWith(flag({ metadata: { "edgeflags.prerequisites": '[{"flag":1}]' } })),
      [
        { path: "flags.f.metadata.edgeflags.prerequisites[0].flag", message: expect.any(String) },
        { path: "flags.f.metadata.edgeflags.prerequisites[0].variant", message: expect.any(String) },
      ],
    ],
    [
      "extension not JSON",
      docWith(flag({ metadata: { "edgeflags.tags": "[a" } })),
      [{ path: "flags.f.metadata.edgeflags.tags", message: expect.stringContaining("not valid JSON") }],
    ],
  ];
  it.each(cases)("%s", (_label, input, expected) => {
    expect(errorsOf(importFlagd(input))).toEqual(expected);
  });

  it("reports every problem of a document at once", () => {
    const errors = errorsOf(
      importFlagd({
        flags: { a: flag({ state: "off" }), b: flag({ defaultVariant: "nope" }), c: flag() },
        metadata: { x: null },
        extra: true,
      }),
    );
    expect(errors.map((e) => e.path)).toEqual(["extra", "metadata.x", "flags.a.state", "flags.b.defaultVariant"]);
  });

  it("with strictRefs, names every $ref to a missing evaluator", () => {
    const input = {
      flags: {
        f: flag({ targeting: { if: [{ and: [{ $ref: "known" }, { $ref: "gone" }] }, "on", { $ref: "also-gone" }] } }),
      },
      $evaluators: { known: true },
    };
    expect(errorsOf(importFlagd(input, { strictRefs: true }))).toEqual([
      { path: "flags.f.targeting.if[0].and[1].$ref", message: '"gone" is not defined in $evaluators' },
      { path: "flags.f.targeting.if[2].$ref", message: '"also-gone" is not defined in $evaluators' },
    ]);
    expect(importFlagd(input).ok).toBe(true);
  });

  it("with strictRefs, still accepts the testkit apart from its deliberately dangling $ref", () => {
    const errors = errorsOf(importFlagd(readFileSync(TESTKIT, "utf8"), { strictRefs: true }));
    expect(errors).toEqual([
      {
        path: "flags.ref-to-nonexistent-evaluator-flag.targeting.if[0].$ref",
        message: expect.stringContaining("nonexistent_evaluator"),
      },
    ]);
  });
});

describe("the example document (what `npm start` seeds)", () => {
  const text = readFileSync(EXAMPLE, "utf8");
  const doc = valueOf(importFlagd(text));
  const compiled = compileEnvironment(doc);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const env = compiled.value;
  const core = new FlagdCore(undefined, SILENT);
  core.setConfigurations(text);

  it("compiles strictly (no flag falls back to PARSE_ERROR) and passes flagd's strict schema validation", () => {
    expect(env.flags.map((f) => f.key)).toHaveLength(10);
    expect(() => new MemoryStorage(SILENT).setConfigurations(text, true)).not.toThrow();
  });

  const contexts: EvaluationContext[] = [
    {},
    { targetingKey: "user-1", email: "ann@shop.example", plan: "premium" },
    { targetingKey: "user-2", email: "bob@partner.example", plan: "trial", country: "AT", zip: "10115" },
    { targetingKey: "user-3", platform: "ios", appVersion: "4.3.1", prefersDark: true, sessionId: "abc" },
    { targetingKey: "user-4", appVersion: "5.0.2", accessibility: { highContrast: true }, sessionId: "xyz" },
  ];
  it.each(contexts.map((c) => [JSON.stringify(c), c] as const))(
    "evaluates as flagd-core 4.0.1 for %s",
    (_label, ctx) => {
      for (const f of env.flags) {
        const mine = env.evaluate(f.key, ctx);
        const theirs = core.resolve(f.type, f.key, "<code default>" as never, ctx as never, SILENT);
        expect([theirs.value, theirs.variant, theirs.reason], f.key).toEqual([
          mine.value ?? "<code default>",
          mine.variant,
          mine.reason,
        ]);
        // edgeflags.* keys configure the import (client visibility, kind); edgeflags answers without them.
        const theirMetadata = Object.fromEntries(
          Object.entries(theirs.flagMetadata).filter(([k]) => !k.startsWith("edgeflags.")),
        );
        expect(theirMetadata, f.key).toEqual(mine.metadata);
      }
    },
  );

  it("covers the kinds of flag it is meant to show", () => {
    const results = env.evaluateAll({ targetingKey: "user-9", email: "x@partner.example" });
    const byKey = new Map(results.map((r) => [r.key, r]));
    expect(byKey.get("legacy-recommendations")!.reason).toBe("DISABLED");
    expect(byKey.get("promo-code")).toMatchObject({ reason: "DEFAULT" });
    expect(byKey.get("promo-code")!.value).toBeUndefined();
    expect(byKey.get("welcome-banner")!.variant).toBe("partner");
    expect(env.get("theme")!.type).toBe("object");
    expect(env.get("max-cart-items")!.type).toBe("number");
  });
});
