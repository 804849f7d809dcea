/**
 * checkTouchedFlags (compile.ts): a change to a few flags of a document that compiled is refused
 * exactly when, and with the issues that, compileEnvironment refuses the whole resulting document.
 */
import { describe, expect, it } from "vitest";
import { checkTouchedFlags, compileEnvironment } from "../../src/core/compile";
import type { EnvironmentDoc, Flag } from "../../src/core/model";

const flag = (key: string, extra: Partial<Flag> = {}): Flag =>
  ({
    key,
    type: "boolean",
    enabled: true,
    clientVisible: false,
    variants: { on: true, off: false },
    defaultVariant: "off",
    ...extra,
  }) as Flag;

const base: EnvironmentDoc = {
  flags: [
    flag("a"),
    flag("b", { prerequisites: [{ flag: "a", variant: "on" }] }),
    flag("c", { rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] } as Partial<Flag>),
    ...Array.from({ length: 50 }, (_, i) => flag(`filler-${i}`)),
  ],
  segments: [{ key: "beta", included: ["u1"], excluded: [], rules: [] }],
};

const put = (doc: EnvironmentDoc, f: Flag): EnvironmentDoc => ({
  ...doc,
  flags: doc.flags.some((x) => x.key === f.key) ? doc.flags.map((x) => (x.key === f.key ? f : x)) : [...doc.flags, f],
});
const remove = (doc: EnvironmentDoc, key: string): EnvironmentDoc => ({
  ...doc,
  flags: doc.flags.filter((f) => f.key !== key),
});

const changes: ReadonlyArray<readonly [string, EnvironmentDoc, string]> = [
  ["a toggle", put(base, { ...base.flags[0]!, enabled: false }), "a"],
  ["a new flag", put(base, flag("d", { prerequisites: [{ flag: "b", variant: "off" }] })), "d"],
  ["a variant a dependent relies on removed", put(base, flag("a", { variants: { off: false } })), "a"],
  ["a prerequisite cycle closed", put(base, flag("a", { prerequisites: [{ flag: "b", variant: "on" }] })), "a"],
  ["an unknown prerequisite", put(base, flag("e", { prerequisites: [{ flag: "nope", variant: "on" }] })), "e"],
  ["a wrongly typed variant", put(base, flag("a", { variants: { on: 1 as unknown as boolean, off: false } })), "a"],
  ["an unknown default variant", put(base, flag("filler-3", { defaultVariant: "maybe" })), "filler-3"],
  [
    "an unknown segment",
    put(base, flag("c", { rules: [{ when: { segment: "gamma" }, serve: { variant: "on" } }] } as Partial<Flag>)),
    "c",
  ],
  [
    "a bad rule variant",
    put(base, flag("c", { rules: [{ when: { segment: "beta" }, serve: { variant: "maybe" } }] } as Partial<Flag>)),
    "c",
  ],
  ["a prerequisite deleted", remove(base, "a"), "a"],
  ["a leaf deleted", remove(base, "filler-7"), "filler-7"],
];

describe("checkTouchedFlags", () => {
  it("the base document compiles", () => {
    expect(compileEnvironment(base).ok).toBe(true);
  });

  it.each(changes)("%s: same verdict and issues as compiling the whole document", (_name, next, key) => {
    const whole = compileEnvironment(next);
    const touched = checkTouchedFlags(next, [key]);
    expect(touched.ok).toBe(whole.ok);
    if (!whole.ok && !touched.ok) expect(touched.errors).toEqual(whole.errors);
  });

  it("refuses some of these changes (the table is not all valid)", () => {
    expect(changes.filter(([, next, key]) => !checkTouchedFlags(next, [key]).ok).length).toBeGreaterThanOrEqual(7);
  });
});
