/**
 * Arithmetic: `+`, `-`, `*`, `/`, `%`, `min`, `max`, as json-logic-engine compiles them for
 * flagd-core: operands are coerced with unary `+`, an object operand or a NaN result is an
 * evaluation error, a zero divisor is an error, and a literal operand that cannot be a number is
 * rejected when the targeting is built (flagd: PARSE_ERROR).
 * @module
 */
import { LogicError, type Expr } from "../../runtime";
import { prevRegister } from "../prev-register";
import { invalidArguments, precoerceNumber } from "../truthy";
import type { LogicCompiler, LogicOperator } from "../types";

export const PLUS = "+",
  MINUS = "-",
  TIMES = "*",
  DIVIDE = "/",
  MODULO = "%",
  MIN = "min",
  MAX = "max";

const NAN = new LogicError("NaN");

/** `+precoerceNumber(v)`: objects and NaN fail, null/""/false are 0. */
function num(v: unknown): number {
  return +(precoerceNumber(v) as number);
}

function checked(n: number): number {
  if (Number.isNaN(n)) throw NAN;
  return n;
}

/** Operands of an argument array; literal operands are checked now, as the build step does. */
function operands(name: string, args: unknown[], c: LogicCompiler, path: string): Expr[] | Expr {
  const fns: Expr[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (Array.isArray(a)) return c.reject(`${path}[${i}]`, `"${name}" operand is an array`);
    if (typeof a === "string" && Number.isNaN(+a))
      return c.reject(`${path}[${i}]`, `"${name}" operand ${JSON.stringify(a)} is not a number`);
    if (name === DIVIDE && i > 0 && (a === 0 || a === "0" || a === ""))
      return c.reject(`${path}[${i}]`, "division by a literal zero");
    fns.push(c.compile(a, `${path}[${i}]`));
  }
  return fns;
}

function fold(
  name: string,
  identity: number | undefined,
  op: (a: number, b: number) => number,
  divisor: boolean,
): LogicOperator {
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      if (!Array.isArray(args)) {
        if (name === PLUS || name === MINUS) return unary(name, args, c, path);
        return () => {
          throw invalidArguments(name);
        };
      }
      let list = args;
      if (list.length === 0) {
        if (identity === undefined) return c.reject(path, `"${name}" needs arguments`);
        return () => identity;
      }
      if (name === DIVIDE && list.length === 1) list = [1, list[0]];
      if (name === MODULO && list.length < 2) return c.reject(path, `"%" needs two arguments`);
      const fns = operands(name, list, c, path);
      if (!Array.isArray(fns)) return fns;
      if (name === MINUS && fns.length === 1) {
        const f = fns[0]!;
        return (ctx, rt) => -checked(num(f(ctx, rt)));
      }
      return (ctx, rt) => {
        let acc = num(fns[0]!(ctx, rt));
        for (let i = 1; i < fns.length; i++) {
          let b = num(fns[i]!(ctx, rt));
          if (divisor && !b) b = NaN;
          acc = op(acc, b);
        }
        return checked(acc);
      };
    },
  };
}

/** `{"+": x}` / `{"-": x}` with one non-array operand (a cast, or a sum over an array value). */
function unary(name: string, args: unknown, c: LogicCompiler, path: string): Expr {
  const f = c.compile(args, path);
  const interpreted = c.interpreted;
  return (ctx, rt) => {
    const v = f(ctx, rt);
    if (!interpreted) prevRegister.prev = v;
    else if (name === PLUS && !v) return 0;
    if (Array.isArray(v)) {
      if (name === PLUS) {
        const sum = v.reduce((a: number, b) => +a + num(b), 0);
        return interpreted ? checked(sum) : sum;
      }
      if (v.length === 1) return -(precoerceNumber(v[0]) as number);
      if (v.length < 1) throw invalidArguments(name);
      return v.reduce((a, b) => num(a) - num(b));
    }
    return name === PLUS ? precoerceNumber(+(v as number)) : -(precoerceNumber(+(v as number)) as number);
  };
}

function extreme(name: string, pick: (a: number, b: number) => boolean): LogicOperator {
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      const a = c.args(args, path);
      return (ctx, rt) => {
        const data = a(ctx, rt);
        if (!data.length || typeof data[0] !== "number") throw invalidArguments(name);
        let best = data[0];
        for (let i = 1; i < data.length; i++) {
          const v = data[i];
          if (typeof v !== "number") throw invalidArguments(name);
          if (pick(v, best)) best = v;
        }
        return best;
      };
    },
  };
}

export const arithmeticOperators: LogicOperator[] = [
  fold(PLUS, 0, (a, b) => a + b, false),
  fold(MINUS, undefined, (a, b) => a - b, false),
  fold(TIMES, 1, (a, b) => a * b, false),
  fold(DIVIDE, undefined, (a, b) => a / b, true),
  fold(MODULO, undefined, (a, b) => a % b, true),
  extreme(MIN, (v, best) => v < best),
  extreme(MAX, (v, best) => v > best),
];
