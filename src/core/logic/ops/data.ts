/**
 * Context reads: `var` (dotted paths, defaults, `$flagd.*`), `missing`, `missing_some`, and
 * `merge`. Static paths are split once at compile time.
 * @module
 */
import { compileGetter, contextRoot, flagdProperties, isInheritedName, ownProperty, splitPath } from "../../path";
import type { EvaluationContext } from "../../evaluation-types";
import { LogicError, type Expr, type Runtime } from "../../runtime";
import { prevRegister } from "../prev-register";
import type { LogicCompiler, LogicOperator } from "../types";

export const VAR = "var",
  MISSING = "missing",
  MISSING_SOME = "missing_some",
  MERGE = "merge";

/** Functions never leave the context as values (json-logic-engine maps them to null). */
function noFunction(v: unknown): unknown {
  return typeof v === "function" ? null : v;
}

/** json-logic-engine's interpreted `var`, for keys computed at evaluation time. */
function dynamicVar(key: unknown, ctx: EvaluationContext, flagKey: string, rt: Runtime, plain: boolean): unknown {
  let fallback: unknown;
  if (Array.isArray(key)) {
    fallback = key[1];
    key = key[0];
  }
  const notFound = fallback === undefined ? null : fallback;
  if (key === undefined || key === "" || key === null)
    return plain ? ctx : { ...ctx, $flagd: flagdProperties(flagKey, rt) };
  const parts = splitPath(String(key));
  let value: unknown = ctx;
  for (let i = 0; i < parts.length; i++) {
    if (value === null || value === undefined) return notFound;
    value = i === 0 ? root(ctx, flagKey, parts[0]!, rt, plain, true) : ownProperty(value, parts[i]!);
    if (value === undefined) return notFound;
  }
  return noFunction(value);
}

function missingOf(checked: unknown, ctx: EvaluationContext, flagKey: string, plain: boolean): unknown[] {
  const list = checked as ArrayLike<unknown>;
  const missing: unknown[] = [];
  if (!list || !list.length) return missing;
  for (let i = 0; i < list.length; i++) {
    const parts = splitPath(String(list[i]));
    let data: unknown = ctx;
    let found = true;
    for (let j = 0; j < parts.length; j++) {
      if (!data) {
        found = false;
        break;
      }
      data = j === 0 && !plain ? contextRoot(ctx, flagKey, parts[0]!) : ownProperty(data, parts[j]!);
      if (data === undefined) {
        found = false;
        break;
      }
    }
    if (!found) missing.push(list[i]);
  }
  return missing;
}

/**
 * A context root as flagd-core's evaluation context has it (`$flagd` injected). `own`: read own
 * properties only (the caller decides once per static key, see isInheritedName).
 */
function root(
  ctx: EvaluationContext,
  flagKey: string,
  part: string,
  rt: Runtime,
  plain: boolean,
  own: boolean,
): unknown {
  if (plain)
    return own
      ? ownProperty(ctx, part)
      : ctx === null || ctx === undefined
        ? undefined
        : (ctx as Record<string, unknown>)[part];
  return part === "$flagd" ? flagdProperties(flagKey, rt) : own ? ownProperty(ctx, part) : ctx[part];
}

/**
 * `var` as json-logic-engine's interpreter (optimizer) reads it: a null value is returned as
 * null (the default applies only to undefined), and two- or three-segment paths chain with `&&`,
 * so a falsy intermediate value (0, "", false) is returned as is.
 */
function interpretedVar(args: unknown, c: LogicCompiler, path: string): Expr {
  const flagKey = c.state.flagKey;
  const plain = c.state.iterator === true;
  const single = Array.isArray(args) && args.length === 1 && !Array.isArray(args[0]) ? args[0] : args;
  if (Array.isArray(single) || (single !== null && typeof single === "object")) {
    const f = Array.isArray(single) ? c.args(single, path) : c.compile(single, path);
    c.state.timeDependent = true;
    return (ctx, rt) => dynamicVar(f(ctx, rt), ctx, flagKey, rt, plain);
  }
  if (!single) {
    if (plain) return (ctx) => (ctx === undefined || typeof ctx === "function" ? null : ctx);
    c.state.timeDependent = true;
    return (ctx, rt) => ({ ...ctx, $flagd: flagdProperties(flagKey, rt) });
  }
  if (typeof single !== "string" && typeof single !== "number") {
    return () => {
      throw new LogicError(`"var" key must be a string`);
    };
  }
  const key = String(single);
  if (typeof single === "number" || (!key.includes(".") && !key.includes("\\"))) {
    if (key === "$flagd") c.state.timeDependent = true;
    const own = isInheritedName(key);
    return (ctx, rt) => {
      const v = root(ctx, flagKey, key, rt, plain, own);
      return v === undefined || typeof v === "function" ? null : v;
    };
  }
  if (key.startsWith("../")) return c.reject(path, `"var" paths climbing out of an iterator ("../") are not supported`);
  const parts = splitPath(key);
  if (parts[0] === "$flagd" && parts[1] !== "flagKey" && !plain) c.state.timeDependent = true;
  if (parts.length === 2 || parts.length === 3) {
    const [p0, p1, p2] = parts as [string, string, string | undefined];
    if (parts.some(isInheritedName)) {
      // Own properties only; the `&&` chain keeps falsy intermediates as json-logic-engine does.
      return (ctx, rt) => {
        const a = root(ctx, flagKey, p0, rt, plain, true);
        let r: unknown = a && ownProperty(a, p1);
        if (p2 !== undefined) r = r && ownProperty(r, p2);
        return typeof r === "function" || r === undefined ? null : r;
      };
    }
    return (ctx, rt) => {
      const a = root(ctx, flagKey, p0, rt, plain, false) as Record<string, unknown>;
      let r: unknown = a && a[p1];
      if (p2 !== undefined) r = r && (r as Record<string, unknown>)[p2];
      return typeof r === "function" || r === undefined ? null : r;
    };
  }
  return (ctx, rt) => dynamicVar(key, ctx, flagKey, rt, plain);
}

export const dataOperators: LogicOperator[] = [
  {
    name: VAR,
    deterministic: false,
    compile(args, c, path): Expr {
      if (c.interpreted) return interpretedVar(args, c, path);
      let key = args;
      let fallback: Expr = () => null;
      if (Array.isArray(args) && args.length <= 2) {
        key = args[0];
        if (args.length === 2) fallback = c.compile(args[1], `${path}[1]`);
      }
      if (typeof key === "string" && key.startsWith("../"))
        return c.reject(path, `"var" paths climbing out of an iterator ("../") are not supported`);
      if (key === undefined || key === null || key === "" || typeof key === "string" || typeof key === "number") {
        const parts = key === undefined || key === null || key === "" ? [] : splitPath(String(key));
        const get = compileGetter(parts, c.state);
        if (parts.length === 0) return (ctx, rt) => get(ctx, rt); // compiled as `context`: no register write
        return (ctx, rt) => noFunction((prevRegister.prev = get(ctx, rt) ?? fallback(ctx, rt)));
      }
      // A computed key: evaluate the arguments, then read as json-logic-engine's interpreter does.
      const f = Array.isArray(args) ? c.args(args, path) : c.compile(args, path);
      const flagKey = c.state.flagKey;
      const plain = c.state.iterator === true;
      c.state.timeDependent = true; // the key may turn out to be "$flagd.timestamp"
      return (ctx, rt) => dynamicVar(f(ctx, rt), ctx, flagKey, rt, plain);
    },
  },
  {
    name: MISSING,
    deterministic: false,
    compile(args, c, path): Expr {
      const a = c.args(args, path);
      const flagKey = c.state.flagKey;
      const plain = c.state.iterator === true;
      return (ctx, rt) => missingOf(a(ctx, rt), ctx, flagKey, plain);
    },
  },
  {
    name: MISSING_SOME,
    deterministic: false,
    compile(args, c, path): Expr {
      const a = c.args(args, path);
      const flagKey = c.state.flagKey;
      const plain = c.state.iterator === true;
      return (ctx, rt) => {
        const [need, options] = a(ctx, rt) as [number, ArrayLike<unknown>];
        const missing = missingOf(options, ctx, flagKey, plain);
        return (options?.length ?? NaN) - missing.length >= need ? [] : missing;
      };
    },
  },
  {
    name: MERGE,
    deterministic: true,
    compile(args, c, path): Expr {
      const a = c.args(args, path);
      return (ctx, rt) => {
        const items = a(ctx, rt);
        const out: unknown[] = [];
        for (const item of items) {
          if (Array.isArray(item)) out.push(...item);
          else out.push(item);
        }
        return out;
      };
    },
  },
];
