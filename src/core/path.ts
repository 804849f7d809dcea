/**
 * Reading a dotted attribute path from the evaluation context, shared by JSON Logic `var`/`missing`
 * and native conditions. flagd injects `$flagd.flagKey` and `$flagd.timestamp` into the context it
 * evaluates; edgeflags never copies the context, it resolves `$flagd.*` at compile time instead
 * (the flag key is a constant, the timestamp reads the evaluation's clock).
 * @module
 */
import type { EvaluationContext } from "./evaluation-types";
import { nowMs, type Expr, type Runtime } from "./runtime";

/** json-logic-engine's path splitting: "." separates, "\\." escapes a dot. */
export function splitPath(str: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < str.length; i++) {
    const char = str[i];
    if (char === "\\") {
      const next = str[i + 1];
      if (next === "." || next === "/") {
        current += next;
        i++;
      } else if (next === "\\") {
        current += "\\";
        i++;
      } else current += "\\";
    } else if (char === ".") {
      parts.push(current);
      current = "";
    } else current += char;
  }
  if (parts.length !== str.length) parts.push(current);
  return parts;
}

/**
 * Names that a context value (object, array, string, number, boolean) answers without owning them:
 * `toString`, `constructor`, `__proto__`, `map`, `length`... Paths are split at compile time, so a
 * read is checked for own properties only when one of its names is one of these: an attribute
 * `toString` must not see Object.prototype.toString (and match an empty context).
 */
export function isInheritedName(key: string): boolean {
  return (
    key in Object.prototype ||
    key in Array.prototype ||
    key in String.prototype ||
    key in Number.prototype ||
    key in Boolean.prototype
  );
}

const hasOwn = Object.prototype.hasOwnProperty;

/** `value[key]` when `value` owns `key` (array indexes and string lengths included), else undefined. */
export function ownProperty(value: unknown, key: string): unknown {
  return value !== null && value !== undefined && hasOwn.call(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Optional chaining over `parts` from `start`: undefined as soon as a step is null or undefined. */
function walk(value: unknown, parts: readonly string[], start: number): unknown {
  for (let i = start; i < parts.length; i++) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[parts[i]!];
  }
  return value;
}

/** `walk` reading own properties only (for paths with an inherited name somewhere). */
export function walkOwn(value: unknown, parts: readonly string[], start: number): unknown {
  for (let i = start; i < parts.length && value !== undefined; i++) value = ownProperty(value, parts[i]!);
  return value;
}

export const FLAGD = "$flagd";

export interface PathCompileState {
  flagKey: string;
  /** Set when the compiled read depends on the clock. */
  timeDependent: boolean;
  /**
   * Inside a JSON Logic iterator (`some`, `map`, ...) the context is the current element: no
   * `$flagd`, and it may be any JSON value.
   */
  iterator?: boolean;
}

/** `$flagd` as flagd-core injects it. */
export function flagdProperties(flagKey: string, rt: Runtime): { flagKey: string; timestamp: number } {
  return { flagKey, timestamp: Math.floor(nowMs(rt) / 1000) };
}

/**
 * A closure reading `parts` from the context with `?.` semantics (undefined when absent). An
 * empty path reads the whole context, as flagd sees it (with `$flagd`).
 */
export function compileGetter(parts: readonly string[], state: PathCompileState): Expr {
  const flagKey = state.flagKey;
  const own = parts.some(isInheritedName);
  if (state.iterator) {
    if (parts.length === 0) return (ctx) => ctx;
    return own ? (ctx) => walkOwn(ctx, parts, 0) : (ctx) => walk(ctx, parts, 0);
  }
  if (parts.length === 0) {
    state.timeDependent = true;
    return (ctx, rt) => ({ ...ctx, [FLAGD]: flagdProperties(flagKey, rt) });
  }
  if (parts[0] === FLAGD) {
    if (parts.length === 1) {
      state.timeDependent = true;
      return (_ctx, rt) => flagdProperties(flagKey, rt);
    }
    if (parts[1] === "flagKey") {
      const value = walk(flagKey, parts, 2);
      return () => value;
    }
    if (parts[1] === "timestamp") {
      state.timeDependent = true;
      return (_ctx, rt) => walk(Math.floor(nowMs(rt) / 1000), parts, 2);
    }
    return () => undefined;
  }
  if (own) return (ctx: EvaluationContext) => walkOwn(ctx, parts, 0);
  const p0 = parts[0]!;
  if (parts.length === 1) return (ctx: EvaluationContext) => ctx[p0];
  const p1 = parts[1]!;
  if (parts.length === 2) {
    return (ctx: EvaluationContext) => {
      const a = ctx[p0];
      return a === null || a === undefined ? undefined : (a as Record<string, unknown>)[p1];
    };
  }
  return (ctx: EvaluationContext) => walk(ctx, parts, 0);
}

/** The context as flagd-core builds it, for the rare reads that need real objects (`missing`). */
export function contextRoot(ctx: EvaluationContext, flagKey: string, part: string): unknown {
  return part === FLAGD ? { flagKey, timestamp: 0 } : ownProperty(ctx, part);
}
