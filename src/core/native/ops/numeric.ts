/** `lt`, `lte`, `gt`, `gte` against `values[0]`; the attribute must be a finite number. @module */
import type { NativeOperator } from "../types";

export const LT = "lt",
  LTE = "lte",
  GT = "gt",
  GTE = "gte";

export const numericOperator: NativeOperator = {
  names: [LT, LTE, GT, GTE],
  compile(op, values) {
    const n = values[0];
    if (values.length !== 1 || typeof n !== "number" || !Number.isFinite(n))
      return `${op} takes exactly one finite number`;
    const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
    switch (op) {
      case LT:
        return (v) => num(v) && v < n;
      case LTE:
        return (v) => num(v) && v <= n;
      case GT:
        return (v) => num(v) && v > n;
      default:
        return (v) => num(v) && v >= n;
    }
  },
  fused(op, values, attr) {
    const n = values[0] as number;
    // A finite bound: NaN never compares true, so only the infinity on the matching side needs a check.
    switch (op) {
      case LT:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "number" && v < n && v !== -Infinity;
        };
      case LTE:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "number" && v <= n && v !== -Infinity;
        };
      case GT:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "number" && v > n && v !== Infinity;
        };
      default:
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === "number" && v >= n && v !== Infinity;
        };
    }
  },
};
