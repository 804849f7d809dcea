/**
 * flagd's `sem_ver`: `{"sem_ver": [version, op, version]}` with op one of = != < <= > >= ^ ~.
 * Any invalid input yields null (the default variant), never an error.
 * @module
 */
import { normalizeVersion, semverTest, SEMVER_OPS, type SemVerOp } from "../../semver";
import type { Expr } from "../../runtime";
import { flagdOperatorInIterator, NOT_CONSTANT, type LogicOperator } from "../types";

export const SEM_VER = "sem_ver";

export const semverOperators: LogicOperator[] = [
  {
    name: SEM_VER,
    deterministic: false,
    compile(args, c, path): Expr {
      if (c.state.iterator) return flagdOperatorInIterator(SEM_VER);
      // Fast path: constant operator and right-hand version, parsed once.
      if (Array.isArray(args) && args.length === 3) {
        const op = c.constant(args[1]);
        const right = c.constant(args[2]);
        if (op !== NOT_CONSTANT && right !== NOT_CONSTANT) {
          const opStr = String(op);
          const b = normalizeVersion(right);
          const left = c.compile(args[0], `${path}[0]`);
          if (b === null || !SEMVER_OPS.has(opStr)) return (ctx, rt) => (left(ctx, rt), null);
          return (ctx, rt) => {
            const a = normalizeVersion(left(ctx, rt));
            return a === null ? null : semverTest(a, opStr as SemVerOp, b);
          };
        }
      }
      const a = c.args(args, path);
      return (ctx, rt) => {
        const data = a(ctx, rt);
        if (data.length !== 3) return null;
        const x = normalizeVersion(data[0]);
        const y = normalizeVersion(data[2]);
        if (x === null || y === null) return null;
        const op = String(data[1]);
        return SEMVER_OPS.has(op) ? semverTest(x, op as SemVerOp, y) : null;
      };
    },
  },
];
