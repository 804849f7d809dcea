/**
 * `if` (and its alias `?:`), `and`, `or`, `!`, `!!` with json-logic-engine truthiness. `and`/`or`
 * return the deciding operand, not a boolean, as JSON Logic does.
 * @module
 */
import type { Expr } from "../../runtime";
import { invalidArguments, truthy } from "../truthy";
import { prevRegister } from "../prev-register";
import type { LogicCompiler, LogicOperator } from "../types";

const NULL: Expr = () => null;

function compileIf(name: string): LogicOperator {
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      if (!Array.isArray(args))
        return () => {
          throw invalidArguments(name);
        };
      if (args.length === 0) return NULL;
      // json-logic-engine compiles only `if`s with 3+ arguments; shorter ones run interpreted.
      if (args.length === 1) return c.interpretedScope(() => c.compile(args[0], `${path}[0]`));
      const fns =
        args.length === 2
          ? c.interpretedScope(() => args.map((a, i) => c.compile(a, `${path}[${i}]`)))
          : args.map((a, i) => c.compile(a, `${path}[${i}]`));
      if (fns.length % 2 === 0) fns.push(NULL);
      if (fns.length === 3) {
        const [cond, then, otherwise] = fns as [Expr, Expr, Expr];
        return (ctx, rt) => (truthy(cond(ctx, rt)) ? then(ctx, rt) : otherwise(ctx, rt));
      }
      const last = fns[fns.length - 1]!;
      return (ctx, rt) => {
        for (let i = 0; i + 1 < fns.length; i += 2) {
          if (truthy(fns[i]!(ctx, rt))) return fns[i + 1]!(ctx, rt);
        }
        return last(ctx, rt);
      };
    },
  };
}

function compileJunction(name: "and" | "or"): LogicOperator {
  const stopOn = name === "or";
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      if (!Array.isArray(args))
        return () => {
          throw invalidArguments(name);
        };
      if (args.length === 0) return NULL;
      const fns = args.map((a, i) => c.compile(a, `${path}[${i}]`));
      if (c.interpreted) {
        return (ctx, rt) => {
          let item: unknown;
          for (let i = 0; i < fns.length; i++) {
            item = fns[i]!(ctx, rt);
            if (truthy(item) === stopOn) return item;
          }
          return item;
        };
      }
      // Compiled form: `truthy(prev = x) ? prev : ...` (see prev-register.ts).
      return (ctx, rt) => {
        let item: unknown;
        for (let i = 0; i < fns.length; i++) {
          item = prevRegister.prev = fns[i]!(ctx, rt);
          if (truthy(item) === stopOn) return item;
        }
        return item;
      };
    },
  };
}

function operand(args: unknown, c: LogicCompiler, path: string): Expr {
  if (c.interpreted) {
    // Interpreter: the operand (or the argument array) is evaluated, then an array answers by its first element.
    const single = Array.isArray(args) && args.length === 1 && !Array.isArray(args[0]) ? args[0] : args;
    const f = c.compile(single, path);
    return (ctx, rt) => {
      const v = f(ctx, rt);
      return Array.isArray(v) ? v[0] : v;
    };
  }
  // Compiled: `{"!": [x]}` reads only the first element; `{"!": x}` reads x.
  if (Array.isArray(args)) return args.length === 0 ? () => undefined : c.compile(args[0], `${path}[0]`);
  return c.compile(args, path);
}

export const IF = "if",
  TERNARY = "?:",
  AND = "and",
  OR = "or",
  NOT = "!",
  NOT_NOT = "!!";

export const booleanOperators: LogicOperator[] = [
  compileIf(IF),
  compileIf(TERNARY),
  compileJunction(AND),
  compileJunction(OR),
  {
    name: NOT,
    deterministic: true,
    compile(args, c, path) {
      const f = operand(args, c, path);
      return (ctx, rt) => !truthy(f(ctx, rt));
    },
  },
  {
    name: NOT_NOT,
    deterministic: true,
    compile(args, c, path) {
      const f = operand(args, c, path);
      return (ctx, rt) => truthy(f(ctx, rt));
    },
  },
];
