/** `in` / `notIn`: membership in `values`, a Set built once (O(1) for long lists). @module */
import type { NativeOperator } from "../types";

export const IN = "in", NOT_IN = "notIn";

export const membershipOperator: NativeOperator = {
  names: [IN, NOT_IN],
  compile(op, values) {
    if (values.length === 0) return `${op} needs at least one value`;
    const set = new Set<unknown>(values);
    return op === IN ? (v) => set.has(v) : (v) => !set.has(v);
  },
  fused(op, values, attr) {
    // NaN: Set membership (SameValueZero) finds it, `===` would not.
    if (op !== IN || values.some((v) => v === null || v === undefined || v !== v)) return undefined;
    // A handful of values: comparing beats hashing. Missing attributes (undefined/null) are in no list.
    const list = [...new Set<unknown>(values)];
    if (list.length === 1) {
      const a = list[0];
      return (ctx) => ctx[attr] === a;
    }
    if (list.length === 2) {
      const a = list[0], b = list[1];
      return (ctx) => {
        const v = ctx[attr];
        return v === a || v === b;
      };
    }
    if (list.length <= 4) {
      return (ctx) => {
        const v = ctx[attr];
        for (let i = 0; i < list.length; i++) if (list[i] === v) return true;
        return false;
      };
    }
    const set = new Set<unknown>(list);
    return (ctx) => set.has(ctx[attr]);
  },
};
