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
};
