/**
 * `startsWith`, `endsWith`, `contains` (any of `values`) and `notContains` (none of them), on
 * string attributes only.
 * @module
 */
import type { NativeOperator } from "../types";

export const STARTS_WITH = "startsWith",
  ENDS_WITH = "endsWith",
  CONTAINS = "contains",
  NOT_CONTAINS = "notContains";

export const stringOperator: NativeOperator = {
  names: [STARTS_WITH, ENDS_WITH, CONTAINS, NOT_CONTAINS],
  compile(op, values) {
    if (values.length === 0) return `${op} needs at least one value`;
    if (!values.every((v) => typeof v === "string")) return `${op} values must be strings`;
    const list = values as string[];
    const one = list.length === 1 ? list[0]! : undefined;
    switch (op) {
      case STARTS_WITH:
        return one !== undefined
          ? (v) => typeof v === "string" && v.startsWith(one)
          : (v) => typeof v === "string" && list.some((s) => v.startsWith(s));
      case ENDS_WITH:
        return one !== undefined
          ? (v) => typeof v === "string" && v.endsWith(one)
          : (v) => typeof v === "string" && list.some((s) => v.endsWith(s));
      case CONTAINS:
        return (v) => typeof v === "string" && list.some((s) => v.includes(s));
      default:
        return (v) => typeof v === "string" && !list.some((s) => v.includes(s));
    }
  },
  fused(op, values, attr) {
    if (values.length !== 1) return undefined;
    const one = values[0] as string;
    switch (op) {
      // Most values do not match and differ already at the first (last) character: one
      // charCodeAt rejects them before the builtin call. NaN (an empty value) fails the check too.
      case STARTS_WITH: {
        if (one.length === 0) return undefined;
        const first = one.charCodeAt(0);
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "string" && v.charCodeAt(0) === first && v.startsWith(one);
        };
      }
      case ENDS_WITH: {
        if (one.length === 0) return undefined;
        const last = one.charCodeAt(one.length - 1);
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "string" && v.charCodeAt(v.length - 1) === last && v.endsWith(one);
        };
      }
      case CONTAINS:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "string" && v.includes(one);
        };
      default:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "string" && !v.includes(one);
        };
    }
  },
};
