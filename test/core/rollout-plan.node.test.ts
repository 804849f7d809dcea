import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { Flag, Serve } from "../../src/core/model";
import { baseSplit, checkSteps, serveAt } from "../../src/core/rollout-plan";

const flagWith = (fallthrough: Serve | undefined): Flag => ({
  key: "checkout.v2",
  type: "string",
  variants: { a: "a", b: "b", c: "c", new: "new" },
  defaultVariant: "a",
  enabled: true,
  clientVisible: false,
  ...(fallthrough ? { fallthrough } : {}),
});

/** The variant each of `keys` gets from the flag with `fallthrough`. */
function served(fallthrough: Serve | undefined, keys: string[]): (string | undefined)[] {
  const compiled = compileEnvironment({ flags: [flagWith(fallthrough)], segments: [] });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return keys.map((k) => compiled.value.evaluate("checkout.v2", { targetingKey: k }).variant);
}

const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}-${(i * 7919) % 1000}`);
const percents = [1, 5, 12.5, 25, 33.33, 50, 75, 99.99, 100];

describe("release plan rollouts (core/rollout-plan.ts)", () => {
  for (const [label, before] of [
    ["a single variant", { variant: "a" }],
    [
      "a weighted rollout of other variants",
      {
        rollout: {
          variants: [
            { variant: "a", weight: 3 },
            { variant: "b", weight: 5 },
            { variant: "c", weight: 2 },
          ],
        },
      },
    ],
    [
      "a rollout that already serves the variant to some",
      {
        rollout: {
          variants: [
            { variant: "b", weight: 60 },
            { variant: "new", weight: 15 },
            { variant: "c", weight: 25 },
          ],
        },
      },
    ],
    [
      "a rollout bucketed by another attribute",
      {
        rollout: {
          bucketBy: "targetingKey",
          variants: [
            { variant: "a", weight: 1 },
            { variant: "b", weight: 1 },
          ],
        },
      },
    ],
  ] as [string, Serve][]) {
    it(`over ${label}: whoever gets the variant keeps it at every later step; the rest keep what they had`, () => {
      const base = baseSplit(flagWith(before), "new");
      if (!base.ok) throw new Error(JSON.stringify(base.errors));
      const original = served(before, keys);
      let previous = original;
      for (const percent of percents) {
        const now = served(serveAt(base.value, "new", percent), keys);
        keys.forEach((_, i) => {
          if (previous[i] === "new") expect(now[i], `key ${keys[i]} at ${percent}%`).toBe("new");
          // Not (yet) moved to the variant: exactly what the fallthrough served before the plan.
          if (now[i] !== "new") expect(now[i]).toBe(original[i]);
        });
        const share = now.filter((v) => v === "new").length / keys.length;
        const already = original.filter((v) => v === "new").length / keys.length;
        // The variant's own range is percent % of the hash space (plus what already served it above it).
        expect(share).toBeGreaterThanOrEqual(Math.min(1, percent / 100 - 0.03));
        expect(share).toBeLessThanOrEqual(Math.min(1, percent / 100 + already + 0.03));
        previous = now;
      }
      expect(previous.every((v) => v === "new")).toBe(true);
    });
  }

  it("weights of a step are the variant first, then the old split cut at the same point", () => {
    const base = baseSplit(
      flagWith({
        rollout: {
          variants: [
            { variant: "a", weight: 1 },
            { variant: "b", weight: 1 },
          ],
        },
      }),
      "new",
    );
    if (!base.ok) throw new Error("refused");
    expect(serveAt(base.value, "new", 25)).toEqual({
      rollout: {
        variants: [
          { variant: "new", weight: 2500 },
          { variant: "a", weight: 2500 },
          { variant: "b", weight: 5000 },
        ],
      },
    });
    expect(serveAt(base.value, "new", 100)).toEqual({ variant: "new" });
  });

  it("refuses JSON Logic flags, unknown variants and a fallthrough that serves nothing", () => {
    expect(baseSplit({ ...flagWith(undefined), targeting: { if: [true, "a", "b"] } }, "new").ok).toBe(false);
    expect(baseSplit(flagWith({ variant: "a" }), "zzz").ok).toBe(false);
    expect(baseSplit({ ...flagWith(undefined), defaultVariant: null }, "new").ok).toBe(false);
  });

  it("steps: increasing percents ending at 100, two decimals, whole seconds", () => {
    expect(
      checkSteps([
        { percent: 5, waitSeconds: 60 },
        { percent: 100, waitSeconds: 0 },
      ]),
    ).toEqual([]);
    expect(
      checkSteps([
        { percent: 5, waitSeconds: 60 },
        { percent: 50, waitSeconds: 0 },
      ]).map((i) => i.path),
    ).toEqual(["steps[1].percent"]);
    expect(
      checkSteps([
        { percent: 50, waitSeconds: 1 },
        { percent: 40, waitSeconds: 1 },
        { percent: 100, waitSeconds: 0 },
      ]).map((i) => i.path),
    ).toEqual(["steps[1].percent"]);
    expect(
      checkSteps([
        { percent: 0.001, waitSeconds: 1 },
        { percent: 100, waitSeconds: 1.5 },
      ]).map((i) => i.path),
    ).toEqual(["steps[0].percent", "steps[1].waitSeconds"]);
    expect(checkSteps([]).map((i) => i.path)).toEqual(["steps"]);
  });
});
