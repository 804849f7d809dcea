/**
 * Context paths: splitting as json-logic-engine does, `?.` reads, `$flagd` resolution, and own
 * properties only — a rule on `toString`, `constructor` or `__proto__` must not see what every
 * object inherits, on any read path (fused native ops, getters, rollouts, JSON Logic var/missing).
 */
import { describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import type { EvaluationContext } from "../../src/core/evaluation-types";
import type { Condition, Flag } from "../../src/core/model";
import { compileGetter, isInheritedName, ownProperty, splitPath, walkOwn } from "../../src/core/path";
import { NO_RUNTIME } from "../../src/core/runtime";

describe("splitPath", () => {
  it.each([
    ["a", ["a"]],
    ["a.b.c", ["a", "b", "c"]],
    ["a\\.b", ["a.b"]],
    ["a\\\\.b", ["a\\", "b"]],
    ["a\\/b", ["a/b"]],
    ["a\\x", ["a\\x"]],
    ["", []],
    ["a.", ["a", ""]],
    [".a", ["", "a"]],
  ])("%j → %j", (input, parts) => {
    expect(splitPath(input)).toEqual(parts);
  });
});

describe("compileGetter", () => {
  const get = (path: string, ctx: unknown, now?: number) => {
    const state = { flagKey: "my-flag", timeDependent: false };
    const fn = compileGetter(splitPath(path), state);
    return {
      value: fn(ctx as EvaluationContext, now === undefined ? NO_RUNTIME : { now, trace: undefined }),
      timeDependent: state.timeDependent,
    };
  };

  it("reads nested paths with optional chaining", () => {
    expect(get("user.plan", { user: { plan: "pro" } }).value).toBe("pro");
    expect(get("user.plan", { user: null }).value).toBeUndefined();
    expect(get("a.b.c.d", { a: { b: { c: { d: 0 } } } }).value).toBe(0);
    expect(get("a.b.c.d", { a: { b: 1 } }).value).toBeUndefined();
    expect(get("tags.1", { tags: ["x", "y"] }).value).toBe("y");
  });

  it("resolves $flagd at compile time and the timestamp from the evaluation clock", () => {
    expect(get("$flagd.flagKey", {})).toEqual({ value: "my-flag", timeDependent: false });
    expect(get("$flagd.timestamp", {}, 5_500)).toEqual({ value: 5, timeDependent: true });
    expect(get("$flagd.other", {}).value).toBeUndefined();
  });

  it("reads own properties only, on every path length", () => {
    for (const path of [
      "toString",
      "constructor",
      "__proto__",
      "hasOwnProperty",
      "user.toString",
      "user.constructor.name",
      "a.b.valueOf",
      "name.length.toFixed",
    ]) {
      expect(get(path, { user: {}, a: { b: {} }, name: "x" }).value).toBeUndefined();
    }
    // Own properties with those names are read.
    expect(get("toString", { toString: "mine" }).value).toBe("mine");
    expect(get("user.constructor", JSON.parse('{"user":{"constructor":"c"}}')).value).toBe("c");
    expect(get("__proto__", JSON.parse('{"__proto__":"p"}')).value).toBe("p");
    // Lengths and indexes are own properties of strings and arrays.
    expect(get("name.length", { name: "abc" }).value).toBe(3);
    expect(get("tags.length", { tags: [1, 2] }).value).toBe(2);
    expect(get("obj.length", { obj: {} }).value).toBeUndefined();
  });
});

describe("isInheritedName / ownProperty / walkOwn", () => {
  it("knows the names plain values inherit", () => {
    for (const n of ["toString", "constructor", "__proto__", "valueOf", "map", "length", "charAt", "toFixed"])
      expect(isInheritedName(n)).toBe(true);
    for (const n of ["plan", "email", "name", "targetingKey", "user"]) expect(isInheritedName(n)).toBe(false);
  });
  it("reads own properties only", () => {
    expect(ownProperty({}, "toString")).toBeUndefined();
    expect(ownProperty(null, "a")).toBeUndefined();
    expect(ownProperty("ab", "length")).toBe(2);
    expect(walkOwn({ a: { b: 2 } }, ["a", "b"], 0)).toBe(2);
    expect(walkOwn({ a: {} }, ["a", "constructor", "name"], 0)).toBeUndefined();
  });
});

describe("evaluation never sees inherited properties", () => {
  const flagWith = (key: string, when: Condition): Flag => ({
    key,
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    enabled: true,
    clientVisible: false,
    rules: [{ when, serve: { variant: "on" } }],
  });
  const env = compileEnvironment({
    flags: [
      flagWith("ne", { attribute: "toString", op: "notEquals", values: ["x"] }),
      flagWith("not-in", { attribute: "constructor", op: "notIn", values: ["x"] }),
      flagWith("contains", { attribute: "toString", op: "notContains", values: ["zzz"] }),
      flagWith("nested", { attribute: "user.constructor", op: "notEquals", values: ["x"] }),
      flagWith("gt", { attribute: "valueOf", op: "notEquals", values: [1] }),
      {
        key: "rollout",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        enabled: true,
        clientVisible: false,
        fallthrough: {
          rollout: {
            bucketBy: "constructor",
            variants: [
              { variant: "on", weight: 1 },
              { variant: "on", weight: 1 },
            ],
          },
        },
      },
      {
        key: "logic-var",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        enabled: true,
        clientVisible: false,
        targeting: { if: [{ "==": [{ var: "constructor.name" }, "Object"] }, "on", "off"] },
      },
      {
        key: "logic-missing",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        enabled: true,
        clientVisible: false,
        targeting: { if: [{ missing: ["toString"] }, "off", "on"] },
      },
      {
        key: "logic-dynamic",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        enabled: true,
        clientVisible: false,
        targeting: { if: [{ var: [{ cat: ["hasOwn", "Property"] }] }, "on", "off"] },
      },
    ],
    segments: [],
  });
  if (!env.ok) throw new Error(JSON.stringify(env.errors));

  it.each(["ne", "not-in", "contains", "nested", "gt", "rollout", "logic-var", "logic-missing", "logic-dynamic"])(
    "%s: an empty context does not match",
    (key) => {
      const r = env.value.evaluate(key, { user: {} });
      expect(r.value === true && r.reason !== "DEFAULT").toBe(false);
      expect(env.value.evaluateAll({ user: {} }).find((x) => x.key === key)).toEqual(
        env.value.evaluate(key, { user: {} }),
      );
    },
  );

  it("own attributes with those names still match", () => {
    expect(env.value.evaluate("ne", { toString: "y" }).value).toBe(true);
    expect(env.value.evaluate("nested", JSON.parse('{"user":{"constructor":"y"}}')).value).toBe(true);
  });
});
