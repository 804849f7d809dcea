/**
 * The shape checker is the guard in front of every recursive consumer of outside JSON: it must
 * accept ordinary values, refuse each limit at the right path, and never recurse itself.
 */
import { describe, expect, it } from "vitest";
import { checkJsonShape, CONTEXT_LIMITS, DOCUMENT_LIMITS, type JsonLimits } from "../../src/core/limits";

const small: JsonLimits = {
  maxDepth: 3,
  maxKeysPerObject: 2,
  maxArrayLength: 3,
  maxStringLength: 5,
  forbiddenKeys: new Set(["__proto__"]),
};

function nested(levels: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? { not: v } : [v];
  return v;
}

describe("checkJsonShape", () => {
  it("accepts plain JSON within the limits", () => {
    expect(checkJsonShape({ a: [1, "x", true], b: { c: 1.5, d: null } }, small)).toBeNull();
    expect(checkJsonShape("hello", small)).toBeNull();
    expect(
      checkJsonShape(JSON.parse('{"targetingKey":"u1","user":{"plan":"pro","groups":["a","b"]}}'), CONTEXT_LIMITS),
    ).toBeNull();
  });

  it("counts depth in containers: exactly maxDepth passes, one more is refused at the innermost container", () => {
    expect(checkJsonShape({ a: { b: { c: 1 } } }, small)).toBeNull();
    expect(checkJsonShape({ a: { b: { c: { d: 1 } } } }, small)).toEqual({
      path: "a.b.c",
      message: "nested deeper than 3 levels",
    });
    expect(checkJsonShape([[[["x"]]]], small, "context")).toEqual({
      path: "context[0][0][0]",
      message: "nested deeper than 3 levels",
    });
  });

  it("refuses 100,000 levels of nesting without overflowing the stack", () => {
    const deep = nested(100_000);
    const problem = checkJsonShape(deep, DOCUMENT_LIMITS);
    expect(problem?.message).toBe(`nested deeper than ${DOCUMENT_LIMITS.maxDepth} levels`);
    // The same through JSON.parse, as a request body arrives.
    const text = '{"context":' + "[".repeat(50_000) + "]".repeat(50_000) + "}";
    expect(checkJsonShape(JSON.parse(text), CONTEXT_LIMITS)?.message).toBe("nested deeper than 32 levels");
  });

  it("refuses too many keys, too long arrays, strings and keys", () => {
    expect(checkJsonShape({ x: { a: 1, b: 2, c: 3 } }, small)).toEqual({
      path: "x",
      message: "object with more than 2 keys",
    });
    expect(checkJsonShape({ list: [1, 2, 3, 4] }, small)).toEqual({
      path: "list",
      message: "array longer than 3 items",
    });
    expect(checkJsonShape({ list: ["ok", "toolong"] }, small)).toEqual({
      path: "list[1]",
      message: "string longer than 5 characters",
    });
    expect(checkJsonShape({ abcdef: 1 }, small)).toEqual({ path: "", message: "key longer than 5 characters" });
  });

  it("refuses non-finite numbers, so 1e309 cannot pass as a value", () => {
    const parsed = JSON.parse('{"n":1e309}');
    expect(parsed.n).toBe(Infinity);
    expect(checkJsonShape(parsed, CONTEXT_LIMITS, "context")).toEqual({
      path: "context.n",
      message: "numbers must be finite (JSON has no Infinity or NaN)",
    });
    expect(checkJsonShape({ a: [-Infinity] }, small)?.path).toBe("a[0]");
    expect(checkJsonShape({ a: NaN }, small)?.message).toBe("numbers must be finite (JSON has no Infinity or NaN)");
  });

  it("refuses values JSON cannot hold", () => {
    expect(checkJsonShape([undefined], small)?.message).toBe("undefined is not a JSON value");
    expect(checkJsonShape(undefined, small)?.message).toBe("undefined is not a JSON value");
    // An undefined property is an absent one, as JSON.stringify writes it.
    expect(checkJsonShape({ a: undefined, b: 1 }, small)).toBeNull();
    expect(checkJsonShape({ f: () => 1 }, small)?.message).toBe("function is not a JSON value");
    expect(checkJsonShape({ d: new Date(0) }, small)).toEqual({ path: "d", message: "not a plain JSON object" });
    expect(checkJsonShape({ n: 10n }, small)?.message).toBe("bigint is not a JSON value");
  });

  it("refuses a __proto__ key (JSON.parse makes it an own property) at its path", () => {
    const parsed = JSON.parse('{"user":{"__proto__":{"admin":true}}}');
    expect(checkJsonShape(parsed, CONTEXT_LIMITS, "context")).toEqual({
      path: "context.user.__proto__",
      message: 'the key "__proto__" is not allowed',
    });
    expect(checkJsonShape({ constructor: "x", toString: "y" }, CONTEXT_LIMITS)).toBeNull();
  });

  it("quotes keys that are not identifiers in paths", () => {
    expect(checkJsonShape({ "a b": [{ "x.y": Infinity }] }, small)?.path).toBe('["a b"][0]["x.y"]');
  });

  it("accepts null-prototype objects (Object.create(null) maps)", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.a = 1;
    expect(checkJsonShape(o, small)).toBeNull();
  });
});
