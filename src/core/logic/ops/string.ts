/**
 * String operators: `in` (substring or array membership), `cat`, `substr`, and flagd's
 * `starts_with` / `ends_with` (null, not false, on bad input so the default variant is served).
 * @module
 */
import type { Expr } from "../../runtime";
import { LogicError } from "../../runtime";
import { flagdOperatorInIterator, type LogicOperator } from "../types";

export const IN = "in",
  CAT = "cat",
  SUBSTR = "substr",
  STARTS_WITH = "starts_with",
  ENDS_WITH = "ends_with";

/** `(haystack || []).includes(needle)`, erroring where JavaScript would (a number has no includes). */
export function includes(haystack: unknown, needle: unknown): boolean {
  const h = haystack || [];
  if (typeof h === "string") return h.includes(needle as string);
  if (Array.isArray(h)) return h.includes(needle);
  throw new LogicError(`"in" needs a string or an array`);
}

function concat(values: readonly unknown[]): string {
  let res = "";
  // JavaScript `+`: null becomes "null", as in flagd-core's compiled targeting.
  for (let i = 0; i < values.length; i++) res = res + (values[i] as string);
  return res;
}

function interpretedCat(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return concat(v.filter((x) => x !== null && x !== undefined));
  if (v === null || v === undefined) throw new LogicError(`"cat" of null`);
  return String(v);
}

function stringCompare(name: string, test: (s: string, affix: string) => boolean): LogicOperator {
  return {
    name,
    deterministic: false,
    compile(args, c, path): Expr {
      if (c.state.iterator) return flagdOperatorInIterator(name);
      if (Array.isArray(args) && args.length === 2) {
        // The usual shape, without building the argument array on every evaluation.
        const x = c.compile(args[0], `${path}[0]`);
        const y = c.compile(args[1], `${path}[1]`);
        return (ctx, rt) => {
          const s = x(ctx, rt);
          const affix = y(ctx, rt);
          return typeof s === "string" && typeof affix === "string" ? test(s, affix) : null;
        };
      }
      const a = c.args(args, path);
      return (ctx, rt) => {
        const data = a(ctx, rt);
        if (data.length !== 2 || typeof data[0] !== "string" || typeof data[1] !== "string") return null;
        return test(data[0], data[1]);
      };
    },
  };
}

export const stringOperators: LogicOperator[] = [
  {
    name: IN,
    deterministic: true,
    compile(args, c, path): Expr {
      if (Array.isArray(args)) {
        const needle = args.length > 0 ? c.compile(args[0], `${path}[0]`) : () => undefined;
        const hay = args.length > 1 ? c.compile(args[1], `${path}[1]`) : () => undefined;
        // Small constant lists become a Set (same result as includes for JSON scalars).
        const constHay = c.constant(args[1]);
        if (Array.isArray(constHay) && constHay.length > 8 && constHay.every((v) => typeof v === "string")) {
          const set = new Set<unknown>(constHay);
          return (ctx, rt) => set.has(needle(ctx, rt));
        }
        // Compiled as `(hay || []).includes(needle)`: the haystack is evaluated first (prev-register.ts).
        return (ctx, rt) => {
          const h = hay(ctx, rt);
          return includes(h, needle(ctx, rt));
        };
      }
      const a = c.args(args, path);
      return (ctx, rt) => {
        const data = a(ctx, rt);
        return includes(data[1], data[0]);
      };
    },
  },
  {
    name: CAT,
    deterministic: true,
    compile(args, c, path): Expr {
      if (c.interpreted) {
        // Interpreter: nulls are skipped, a single operand is converted with toString.
        const single = !Array.isArray(args) || (args.length === 1 && !Array.isArray(args[0]));
        const f = c.compile(single && Array.isArray(args) ? args[0] : args, path);
        return (ctx, rt) => interpretedCat(f(ctx, rt));
      }
      if (Array.isArray(args)) {
        const fns = args.map((a, i) => c.compile(a, `${path}[${i}]`));
        if (fns.length === 2) {
          const [x, y] = fns as [Expr, Expr];
          return (ctx, rt) => "" + (x(ctx, rt) as string) + (y(ctx, rt) as string);
        }
        return (ctx, rt) => concat(fns.map((f) => f(ctx, rt)));
      }
      if (args === null || typeof args !== "object") {
        const s = "" + (args as string);
        return () => s;
      }
      const f = c.compile(args, path);
      return (ctx, rt) => interpretedCat(f(ctx, rt));
    },
  },
  {
    name: SUBSTR,
    deterministic: true,
    compile(args, c, path): Expr {
      const a = c.args(args, path);
      return (ctx, rt) => {
        const [s, from, end] = a(ctx, rt) as [unknown, number, number];
        if (typeof s !== "string") throw new LogicError(`"substr" needs a string`);
        if (end < 0) {
          const rest = s.substr(from);
          return rest.substr(0, rest.length + end);
        }
        return s.substr(from, end);
      };
    },
  },
  stringCompare(STARTS_WITH, (s, affix) => s.startsWith(affix)),
  stringCompare(ENDS_WITH, (s, affix) => s.endsWith(affix)),
];
