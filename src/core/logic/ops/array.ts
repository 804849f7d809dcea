/**
 * Array iterators: `some`, `all`, `none`, `map`, `filter`, `reduce`. The body runs with the
 * current element as its context (`{"var": ""}` is the element; in `reduce`, `accumulator` and
 * `current`). json-logic-engine builds the body as a separate function with its own scratch
 * register, so the outer register (prev-register.ts) is restored after iterating.
 * @module
 */
import { LogicError, type Expr, type Runtime } from "../../runtime";
import { prevRegister } from "../prev-register";
import { invalidArguments, truthy } from "../truthy";
import type { LogicOperator } from "../types";

export const SOME = "some",
  ALL = "all",
  NONE = "none",
  MAP = "map",
  FILTER = "filter",
  REDUCE = "reduce";
export const ITERATORS: ReadonlySet<string> = new Set([SOME, ALL, NONE, MAP, FILTER, REDUCE]);

const NOT_ARRAY = new LogicError("iterating over a value that is not an array");
const TOO_DEEP = new LogicError("Exceeded Allowed Depth");

/** `(selector || [])`, which then must have array methods. */
function list(v: unknown): unknown[] {
  const l = v || [];
  if (!Array.isArray(l)) throw NOT_ARRAY;
  return l;
}

/** json-logic-engine `assertAllowedDepth` with depth 0: no object inside an object. */
function shallow(item: unknown): unknown {
  if (!item || typeof item !== "object") return item;
  for (const v of Object.values(item)) if (v && typeof v === "object") throw TOO_DEEP;
  return item;
}

/** Run the body with the outer register saved (compiled bodies have their own). */
function scoped<T>(interpreted: boolean, fn: () => T): T {
  if (interpreted) return fn();
  const saved = prevRegister.prev;
  try {
    return fn();
  } finally {
    prevRegister.prev = saved;
  }
}

type Iterate = (
  sel: unknown,
  body: Expr,
  rt: Runtime,
  interpreted: boolean,
  extra: Expr | undefined,
  ctx: Parameters<Expr>[0],
) => unknown;

const RUN: Record<string, Iterate> = {
  [SOME]: (sel, body, rt, interpreted) =>
    scoped(interpreted, () => {
      if (interpreted) {
        const l = (sel || []) as ArrayLike<unknown>;
        for (let i = 0; i < l.length; i++) if (truthy(body(l[i] as never, rt))) return true;
        return false;
      }
      return list(sel).some((el) => truthy(body(el as never, rt)));
    }),
  [ALL]: (sel, body, rt, interpreted) => {
    if (interpreted) sel = sel || [];
    else prevRegister.prev = sel;
    if (Array.isArray(sel) && sel.length === 0) return false;
    return scoped(interpreted, () => {
      if (interpreted) {
        const l = (sel || []) as ArrayLike<unknown>;
        for (let i = 0; i < l.length; i++) if (!truthy(body(l[i] as never, rt))) return false;
        return true;
      }
      return list(sel).every((el) => truthy(body(el as never, rt)));
    });
  },
  [NONE]: (sel, body, rt, interpreted, extra, ctx) => !RUN[SOME]!(sel, body, rt, interpreted, extra, ctx),
  [MAP]: (sel, body, rt, interpreted) => scoped(interpreted, () => list(sel).map((el) => body(el as never, rt))),
  [FILTER]: (sel, body, rt, interpreted) =>
    scoped(interpreted, () => list(sel).filter((el) => truthy(body(el as never, rt)))),
  [REDUCE]: (sel, body, rt, interpreted, initial, ctx) => {
    const l = list(sel);
    const step = (accumulator: unknown, current: unknown) => shallow(body({ accumulator, current } as never, rt));
    if (initial === undefined) return scoped(interpreted, () => l.reduce(step));
    const start = shallow(initial(ctx, rt));
    return scoped(interpreted, () => l.reduce(step, start));
  },
};

/** `{"reduce": [xs, {"+": [{"var": "accumulator"}, {"var": "current"}]}, d]}` → `{"+": [{"+": xs}, d || 0]}` (and `*`). */
function reduceIdiom(args: unknown[]): unknown {
  const [root, mapper, initial] = args as [unknown, Record<string, unknown> | undefined, unknown];
  for (const op of ["+", "*"]) {
    const terms =
      mapper && typeof mapper === "object" ? (mapper[op] as Record<string, unknown>[] | undefined) : undefined;
    if (
      !Array.isArray(terms) ||
      terms.length !== 2 ||
      !(terms[0] || (0 as never))?.var ||
      !(terms[1] || (0 as never))?.var
    )
      continue;
    const names = [terms[0]!.var, terms[1]!.var];
    if (!names.includes("accumulator") || !names.includes("current")) continue;
    const start = op === "+" ? initial || 0 : initial === undefined ? 1 : initial;
    return { [op]: [{ [op]: root }, start] };
  }
  return undefined;
}

function iterator(name: string): LogicOperator {
  const run = RUN[name]!;
  return {
    name,
    deterministic: true,
    compile(args, c, path): Expr {
      if (!Array.isArray(args)) {
        // `all` falls back to its interpreter at evaluation; the others fail when built.
        return name === ALL
          ? () => {
              throw invalidArguments(name);
            }
          : c.reject(path, `"${name}" needs [array, body]`);
      }
      if (name === REDUCE && c.interpreted) {
        // json-logic-engine's optimizer rewrites a sum/product reduce into arithmetic.
        const idiom = reduceIdiom(args);
        if (idiom !== undefined) return c.compile(idiom, path);
      }
      const sel = c.compile(args[0], `${path}[0]`);
      const initial = name === REDUCE && args.length > 2 ? c.compile(args[2], `${path}[2]`) : undefined;
      const body = c.iteratorScope(() => c.compile(args[1], `${path}[1]`));
      const interpreted = c.interpreted;
      return (ctx, rt) => run(sel(ctx, rt), body, rt, interpreted, initial, ctx);
    },
  };
}

export const arrayOperators: LogicOperator[] = [SOME, ALL, NONE, MAP, FILTER, REDUCE].map(iterator);
