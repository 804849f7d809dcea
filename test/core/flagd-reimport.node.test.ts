/**
 * flagd import semantics (issue 7 §2) and hostile documents: re-importing a file never changes
 * what it does not state; the documented edgeflags.* metadata works at flag and flag-set level;
 * `__proto__` is refused with a path, names like `constructor` round-trip, and no depth
 * overflows a stack.
 */
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { exportFlagd } from "../../src/core/flagd/export";
import { importFlagd, mergeFlagdImport, readFlagd, type FlagdImport } from "../../src/core/flagd/import";
import { EnvironmentDoc, Flag, type Condition } from "../../src/core/model";
import type { Result } from "../../src/core/result";

const valueOf = <T>(r: Result<T>): T => {
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
};
const errorsOf = <T>(r: Result<T>) => {
  if (r.ok) throw new Error("expected a refusal");
  return r.errors;
};

const file = (flagMeta?: Record<string, unknown>, setMeta?: Record<string, unknown>) => ({
  flags: {
    shown: {
      state: "ENABLED",
      variants: { on: true, off: false },
      defaultVariant: "on",
      ...(flagMeta ? { metadata: flagMeta } : {}),
    },
    fresh: { state: "ENABLED", variants: { a: "A" }, defaultVariant: "a" },
  },
  ...(setMeta ? { metadata: setMeta } : {}),
});

const current: EnvironmentDoc = EnvironmentDoc.parse({
  flags: [
    {
      key: "shown",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "on",
      clientVisible: true,
      description: "d",
      tags: ["web"],
    },
    { key: "base", type: "boolean", variants: { on: true }, defaultVariant: "on" },
  ],
  segments: [{ key: "staff", included: ["u1"] }],
});

const importInto = (doc: unknown, into: EnvironmentDoc): EnvironmentDoc =>
  mergeFlagdImport(valueOf(readFlagd(doc)), into);
const flagOf = (doc: EnvironmentDoc, key: string) => doc.flags.find((f) => f.key === key)!;

describe("flagd re-import keeps what the file does not state", () => {
  it("visibility, description and tags of existing flags stay; new flags are hidden", () => {
    const merged = importInto(file(), current);
    expect(flagOf(merged, "shown")).toMatchObject({ clientVisible: true, description: "d", tags: ["web"] });
    expect(flagOf(merged, "fresh").clientVisible).toBe(false);
    expect(flagOf(merged, "fresh").description).toBeUndefined();
    // Flags the file lacks are gone: the file lists the environment's flags.
    expect(merged.flags.map((f) => f.key)).toEqual(["shown", "fresh"]);
    expect(compileEnvironment(merged).ok).toBe(true);
  });

  it("a flag's own edgeflags.* metadata wins over the current values", () => {
    const merged = importInto(
      file({ "edgeflags.clientVisible": false, "edgeflags.description": "new", "edgeflags.tags": "[]" }),
      current,
    );
    expect(flagOf(merged, "shown")).toMatchObject({ clientVisible: false, description: "new", tags: [] });
  });

  it("the flag-set level edgeflags.clientVisible is the default of new flags only", () => {
    const merged = importInto(file(undefined, { "edgeflags.clientVisible": true, owner: "team" }), {
      ...current,
      flags: current.flags.map((f) => (f.key === "shown" ? { ...f, clientVisible: false } : f)),
    });
    expect(flagOf(merged, "fresh").clientVisible).toBe(true);
    expect(flagOf(merged, "shown").clientVisible).toBe(false);
    // It configures the import; it is not metadata that evaluations answer with.
    expect(merged.metadata).toEqual({ owner: "team" });
    // Per-flag metadata wins over the flag-set level.
    const off = importInto(
      file({ "edgeflags.clientVisible": false }, { "edgeflags.clientVisible": true }),
      EnvironmentDoc.parse({ flags: [] }),
    );
    expect(flagOf(off, "shown").clientVisible).toBe(false);
    expect(flagOf(off, "fresh").clientVisible).toBe(true);
  });

  it("a flag-set edgeflags.clientVisible that is not a boolean is an issue with its path", () => {
    expect(errorsOf(readFlagd(file(undefined, { "edgeflags.clientVisible": "yes" })))).toEqual([
      { path: "metadata.edgeflags.clientVisible", message: "must be a boolean" },
    ]);
  });

  it("prerequisites stay unless stated; segments stay unless the file carries edgeflags.segments", () => {
    const withPrereq = EnvironmentDoc.parse({
      ...current,
      flags: [
        ...current.flags.map((f) =>
          f.key === "shown" ? { ...f, prerequisites: [{ flag: "base", variant: "on" }] } : f,
        ),
      ],
    });
    const doc = {
      flags: { ...file().flags, base: { state: "ENABLED", variants: { on: true }, defaultVariant: "on" } },
    };
    const merged = importInto(doc, withPrereq);
    expect(flagOf(merged, "shown").prerequisites).toEqual([{ flag: "base", variant: "on" }]);
    expect(merged.segments).toEqual(current.segments);
    // An export carries the segments: importing it replaces them.
    const other = EnvironmentDoc.parse({ flags: [], segments: [{ key: "beta", included: ["u9"] }] });
    const exported = exportFlagd(other).document;
    expect(importInto(exported, current).segments.map((s) => s.key)).toEqual(["beta"]);
  });

  it("export → import into the same environment changes nothing", () => {
    const exported = exportFlagd(current).document;
    expect(importInto(exported, current)).toEqual(current);
  });

  it("importFlagd alone is an import into an empty environment", () => {
    const r: FlagdImport = valueOf(readFlagd(file()));
    expect(valueOf(importFlagd(file()))).toEqual(mergeFlagdImport(r, EnvironmentDoc.parse({ flags: [] })));
    expect(r.unstated.shown).toEqual(["clientVisible", "description", "tags", "prerequisites", "kind"]);
  });
});

describe("prototype names", () => {
  it("refuses __proto__ as a flag key, variant key, metadata key or inside values, each with its path", () => {
    const cases: Array<[string, string]> = [
      ['{"flags":{"__proto__":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}}}', "flags.__proto__"],
      [
        '{"flags":{"f":{"state":"ENABLED","variants":{"__proto__":true},"defaultVariant":"__proto__"}}}',
        "flags.f.variants.__proto__",
      ],
      [
        '{"flags":{"f":{"state":"ENABLED","variants":{"on":{"__proto__":{"x":1}}},"defaultVariant":"on"}}}',
        "flags.f.variants.on.__proto__",
      ],
      [
        '{"flags":{"f":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","metadata":{"__proto__":"x"}}}}',
        "flags.f.metadata.__proto__",
      ],
      ['{"flags":{},"metadata":{"__proto__":"x"}}', "metadata.__proto__"],
    ];
    for (const [text, path] of cases) {
      expect(errorsOf(importFlagd(text))).toEqual([{ path, message: 'the key "__proto__" is not allowed' }]);
      expect(errorsOf(importFlagd(JSON.parse(text)))[0]!.path).toBe(path);
    }
    expect(Flag.safeParse({ key: "__proto__", type: "boolean", variants: { on: true } }).success).toBe(false);
  });

  it("constructor, toString and prototype round-trip through export and import", () => {
    const doc = EnvironmentDoc.parse({
      flags: [
        {
          key: "constructor",
          type: "object",
          defaultVariant: "toString",
          variants: { toString: { constructor: 1, prototype: [2] }, valueOf: { hasOwnProperty: "x" } },
          metadata: { constructor: "c", toString: 1, prototype: true },
        },
      ],
      metadata: { constructor: "set" },
    });
    const exported = exportFlagd(doc).document;
    const back = valueOf(importFlagd(JSON.parse(JSON.stringify(exported))));
    expect(back).toEqual(doc);
    const env = valueOf(compileEnvironment(back));
    expect(env.evaluate("constructor", {})).toMatchObject({
      variant: "toString",
      value: { constructor: 1, prototype: [2] },
    });
  });
});

describe("depth never overflows the stack", () => {
  it("50,000 nested `not` compile to a clear issue", () => {
    let when: Condition = { attribute: "a", op: "equals", values: ["x"] };
    for (let i = 0; i < 50_000; i++) when = { not: when };
    const r = compileEnvironment({
      flags: [
        {
          key: "f",
          type: "boolean",
          variants: { on: true },
          defaultVariant: "on",
          enabled: true,
          clientVisible: false,
          rules: [{ when, serve: { variant: "on" } }],
        },
      ],
      segments: [],
    });
    expect(errorsOf(r)[0]!.message).toMatch(/nest deeper than 32 levels/);
  });

  it("deep JSON Logic or variant values in a flagd file are refused with a path", () => {
    let logic: unknown = { var: "x" };
    for (let i = 0; i < 50_000; i++) logic = { "!": [logic] };
    const deep = { flags: { f: { state: "ENABLED", variants: { on: true }, defaultVariant: "on", targeting: logic } } };
    expect(errorsOf(importFlagd(deep))[0]!.message).toMatch(/nested deeper than 160 levels/);
    const text =
      '{"flags":{"f":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","targeting":' +
      '{"!":['.repeat(50_000) +
      "1" +
      "]}".repeat(50_000) +
      "}}}";
    expect(errorsOf(importFlagd(text))[0]!.path).toMatch(/^flags\.f\.targeting/);
  });

  it("a deep variant value in a native document is an issue, not a crash", () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    const r = compileEnvironment({
      flags: [
        {
          key: "f",
          type: "object",
          variants: { v: value as never },
          defaultVariant: "v",
          enabled: true,
          clientVisible: false,
        },
      ],
      segments: [],
    });
    expect(errorsOf(r)[0]).toMatchObject({ message: "nested deeper than 160 levels" });
    expect(errorsOf(r)[0]!.path).toMatch(/^flags\.f\.variants\.v\[0\]/);
  });
});
