/**
 * `==`, `===`, `!=`, `!==`, `<`, `<=`, `>`, `>=` as json-logic-engine compiles them: strict forms
 * compare as is; loose forms compare strings directly and otherwise check both sides are numeric
 * (else the evaluation errors). Three or more arguments chain (`{"<": [1, x, 10]}` is "between").
 * @module
 */
import type { Expr } from "../../runtime";
import { compareCheck, invalidArguments, precoerceNumber } from "../truthy";
import { LogicError } from "../../runtime";
import { prevRegister } from "../prev-register";
import type { LogicOperator } from "../types";

/* eslint-disable @typescript-eslint/no-explicit-any */
const RELATIONS: Record<string, (a: any, b: any) => boolean> = {
  // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic defines == and != as loose equality
  "==": (a, b) => a == b,
  "===": (a, b) => a === b,
  // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic defines == and != as loose equality
  "!=": (a, b) => a != b,
  "!==": (a, b) => a !== b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

const NAN = new LogicError("NaN");

function comparator(name: string): LogicOperator {
  const rel = RELATIONS[name]!;
  const strict = name.length === 3;
  /** The interpreter's pairwise comparison (json-logic-engine optimizer). */
  const pair = (a: unknown, b: unknown): boolean => {
    if (strict || ((typeof a === "string" || a === null) && (typeof b === "string" || b === null))) return rel(a, b);
    if (Number.isNaN(+(precoerceNumber(a) as number))) throw NAN;
    if (Number.isNaN(+(precoerceNumber(b) as number)) && a !== null) throw NAN;
    return rel(+(a as number), +(b as number));
  };
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      if (!Array.isArray(args) || args.length < 2) {
        return () => {
          throw invalidArguments(name);
        };
      }
      const fns = args.map((a, i) => c.compile(a, `${path}[${i}]`));
      if (c.interpreted && fns.length <= 3) {
        const [a, b, third] = fns as [Expr, Expr, Expr | undefined];
        if (third === undefined) return (ctx, rt) => pair(a(ctx, rt), b(ctx, rt));
        return (ctx, rt) => {
          const x = a(ctx, rt);
          const y = b(ctx, rt);
          return pair(x, y) && pair(y, third(ctx, rt));
        };
      }
      if (c.interpreted) {
        // Four or more arguments: json-logic-engine's interpreted comparator, quirks included.
        return (ctx, rt) => {
          let prev = fns[0]!(ctx, rt);
          for (let i = 1; i < fns.length; i++) {
            const cur = fns[i]!(ctx, rt);
            if (strict || ((typeof cur === "string" || cur === null) && (typeof prev === "string" || prev === null))) {
              if (!rel(prev, cur)) return false;
            }
            if (Number.isNaN(+(precoerceNumber(cur) as number)) && prev !== null) throw NAN;
            if (i === 1 && Number.isNaN(+(precoerceNumber(prev) as number))) throw NAN;
            if (!rel(+(prev as number), +(cur as number))) return false;
            prev = cur;
          }
          return true;
        };
      }
      // Compiled form: `(prev = a) OP compareCheck(b, prev)`, where evaluating b may reassign prev (prev-register.ts).
      if (fns.length === 2) {
        const [a, b] = fns as [Expr, Expr];
        return (ctx, rt) => {
          const x = (prevRegister.prev = a(ctx, rt));
          const y = b(ctx, rt);
          return rel(x, compareCheck(y, prevRegister.prev, strict));
        };
      }
      return (ctx, rt) => {
        const first = (prevRegister.prev = fns[0]!(ctx, rt));
        let y = fns[1]!(ctx, rt);
        let cur = (prevRegister.prev = compareCheck(y, prevRegister.prev, strict));
        if (!rel(first, cur)) return false;
        for (let i = 2; i < fns.length; i++) {
          const left = prevRegister.prev;
          y = fns[i]!(ctx, rt);
          cur = prevRegister.prev = compareCheck(y, prevRegister.prev, strict);
          if (!rel(left, cur)) return false;
        }
        return true;
      };
    },
  };
}

export const EQ = "==",
  STRICT_EQ = "===",
  NE = "!=",
  STRICT_NE = "!==",
  LT = "<",
  LTE = "<=",
  GT = ">",
  GTE = ">=";
export const comparisonOperators: LogicOperator[] = [EQ, STRICT_EQ, NE, STRICT_NE, LT, LTE, GT, GTE].map(comparator);
