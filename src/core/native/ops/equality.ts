/** `equals` / `notEquals`: strict equality with `values[0]` (no type coercion: 5 ≠ "5"). @module */
import type { NativeOperator } from "../types";

export const EQUALS = "equals",
  NOT_EQUALS = "notEquals";

export const equalityOperator: NativeOperator = {
  names: [EQUALS, NOT_EQUALS],
  compile(op, values) {
    if (values.length !== 1) return `${op} takes exactly one value`;
    const expected = values[0];
    return op === EQUALS ? (v) => v === expected : (v) => v !== expected;
  },
  fused(op, values, attr) {
    const expected = values[0];
    // A missing (undefined/null) attribute never matches; with a non-null expected value `===`
    // already says so.
    if (expected === null || expected === undefined) return undefined;
    if (op === EQUALS) return (ctx) => ctx[attr] === expected;
    return (ctx) => {
      const v = ctx[attr];
      return v !== undefined && v !== null && v !== expected;
    };
  },
};
