/**
 * `before` / `after` against `values[0]`. Dates are ISO 8601 strings ("2027-01-01",
 * "2027-01-01T09:00:00Z") or numbers of epoch milliseconds. The attribute `$flagd.timestamp`
 * reads the evaluation's clock (so "after 2027-01-01" switches on by itself; such flags are
 * time-dependent and never cached).
 * @module
 */
import type { NativeOperator } from "../types";

export const BEFORE = "before",
  AFTER = "after";

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of an ISO string or a number, else NaN. */
export function toEpochMs(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? v : NaN;
  if (typeof v === "string" && ISO.test(v)) return Date.parse(v);
  return NaN;
}

export const dateOperator: NativeOperator = {
  names: [BEFORE, AFTER],
  timeDependent: true,
  compile(op, values) {
    const t = values.length === 1 ? toEpochMs(values[0]) : NaN;
    if (Number.isNaN(t)) return `${op} takes exactly one date (ISO 8601 string or epoch milliseconds)`;
    return op === BEFORE
      ? (v) => {
          const x = toEpochMs(v);
          return x === x && x < t;
        }
      : (v) => {
          const x = toEpochMs(v);
          return x === x && x > t;
        };
  },
};
