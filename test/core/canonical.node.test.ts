/**
 * Canonical JSON keys the edge's caches and ETags and fingerprints flagd targeting: equal values
 * must agree whatever their key order, different values must never share a text (injective),
 * and no depth may overflow the stack.
 */
import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash, hash64 } from "../../src/core/canonical";

describe("canonicalJson", () => {
  it("sorts keys at every depth and writes plain JSON otherwise", () => {
    expect(canonicalJson({ b: 2, a: { d: [1, { y: 1, x: 2 }], c: "s" } })).toBe(
      '{"a":{"c":"s","d":[1,{"x":2,"y":1}]},"b":2}',
    );
    expect(canonicalJson([])).toBe("[]");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson([true, false, null, 1.5, -0, 1e21])).toBe("[true,false,null,1.5,0,1e+21]");
    const value = { z: [1, "2", { k: null }], "a b": { "\u00e9": true } };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });

  it("keeps __proto__ keys (own properties from JSON.parse) as data", () => {
    const parsed = JSON.parse('{"__proto__":{"x":1},"a":1}');
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1},"a":1}');
  });

  it("is injective where JSON.stringify is not: non-finite numbers and undefined", () => {
    const infinity = JSON.parse('{"n":1e309}');
    expect(canonicalJson(infinity)).not.toBe(canonicalJson({ n: null }));
    expect(canonicalJson({ n: -Infinity })).not.toBe(canonicalJson({ n: Infinity }));
    expect(canonicalJson({ n: NaN })).not.toBe(canonicalJson({ n: null }));
    expect(canonicalJson([undefined])).not.toBe(canonicalJson([null]));
    expect(contentHash(infinity)).not.toBe(contentHash({ n: null }));
    // Undefined properties are absent, as in JSON (and as evaluation reads them).
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
  });

  it("handles 100,000 levels of nesting without recursion", () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const text = canonicalJson(deep);
    expect(text.length).toBeGreaterThan(400_000);
    expect(text.endsWith("]}".repeat(50_000))).toBe(true);
  });
});

describe("hash64 / contentHash", () => {
  it("is 16 hex characters, stable, order-insensitive for objects and spread for near values", () => {
    expect(hash64("")).toMatch(/^[0-9a-f]{16}$/);
    expect(hash64("abc")).toBe(hash64("abc"));
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(contentHash({ targetingKey: `user-${i}` }));
    expect(seen.size).toBe(10_000);
  });
});
