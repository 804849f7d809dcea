/**
 * `semverEq`, `semverNeq`, `semverLt`, `semverLte`, `semverGt`, `semverGte`, `semverTilde` (same
 * major.minor), `semverCaret` (same major) against `values[0]`, read as flagd's `sem_ver` reads
 * versions. An attribute that is no version never matches.
 * @module
 */
import { normalizeVersion, semverTest, type SemVerOp } from "../../semver";
import type { Operator } from "../../model";
import type { NativeOperator } from "../types";

/** The semver comparison each native semver operator makes (flagd's `sem_ver` names the same ones). */
export const SEMVER_OPS: Partial<Record<Operator, SemVerOp>> = {
  semverEq: "=",
  semverNeq: "!=",
  semverLt: "<",
  semverLte: "<=",
  semverGt: ">",
  semverGte: ">=",
  semverTilde: "~",
  semverCaret: "^",
};

export const semverOperator: NativeOperator = {
  names: Object.keys(SEMVER_OPS) as Operator[],
  compile(op, values) {
    const b = values.length === 1 ? normalizeVersion(values[0]) : null;
    if (b === null) return `${op} takes exactly one semantic version`;
    const sop = SEMVER_OPS[op]!;
    return (v) => {
      if (typeof v !== "string" && typeof v !== "number") return false;
      const a = normalizeVersion(v);
      return a !== null && semverTest(a, sop, b);
    };
  },
};
