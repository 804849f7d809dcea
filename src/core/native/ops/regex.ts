/**
 * `matches`: any of `values` as a regex from the restricted grammar, each tested only on values
 * within its input bound (see regex-safety.ts): a longer value does not match.
 * @module
 */
import { compileSafeRegex, safeTest, type SafeRegex } from "../../regex-safety";
import type { NativeOperator } from "../types";

export const MATCHES = "matches";

export const regexOperator: NativeOperator = {
  names: [MATCHES],
  compile(op, values) {
    if (values.length === 0) return `${op} needs at least one pattern`;
    const regexes: SafeRegex[] = [];
    for (const v of values) {
      if (typeof v !== "string") return `${op} patterns must be strings`;
      const r = compileSafeRegex(v);
      if (!r.ok) return `pattern ${JSON.stringify(v)} refused: ${r.errors[0]!.message}`;
      regexes.push(r.value);
    }
    return (v) => typeof v === "string" && regexes.some((r) => safeTest(r, v));
  },
};
