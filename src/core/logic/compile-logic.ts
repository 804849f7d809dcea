/**
 * The JSON Logic front-end: flagd targeting → one closure, built once per flag. `$ref`s are
 * resolved from the document's `$evaluators` here; nothing is parsed at evaluation time and no
 * code is generated (no eval / new Function). Semantics follow flagd-core 4.0.1, which compiles
 * targeting with json-logic-engine 5: the same truthiness, loose comparisons, errors and
 * build-time folding of constant sub-expressions (an error there is a PARSE_ERROR).
 * @module
 */
import type { PathCompileState } from "../path";
import type { Issue } from "../result";
import type { EvaluationContext } from "../evaluation-types";
import { LogicError, NO_RUNTIME, type Expr, type Runtime } from "../runtime";
import { LOGIC_OPERATORS, UNSUPPORTED_OPERATORS } from "./operators";
import { ITERATORS } from "./ops/array";
import { NOT_CONSTANT, type LogicCompiler } from "./types";

export interface CompiledTargeting {
  readonly fn: Expr;
  readonly timeDependent: boolean;
}

const EMPTY_CONTEXT: EvaluationContext = Object.freeze({});
/** Targeting nests this deep at most (evaluation recurses once per level). */
export const MAX_DEPTH = 64;
const REF = "$ref";

/** flagd-core's test: targeting that is absent, `{}` or has no keys means "no targeting". */
export function hasTargeting(targeting: unknown): boolean {
  return targeting !== null && targeting !== undefined && Object.keys(targeting as object).length > 0;
}

class Compiler implements LogicCompiler {
  readonly state: PathCompileState;
  readonly issues: Issue[] = [];
  private readonly refStack: string[] = [];
  private readonly constants = new WeakMap<Expr, unknown>();
  interpreted = false;
  private depth = 0;

  constructor(
    flagKey: string,
    private readonly evaluators: Record<string, unknown> | undefined,
  ) {
    this.state = { flagKey, timeDependent: false };
  }

  iteratorScope<T>(fn: () => T): T {
    const before = this.state.iterator;
    this.state.iterator = true;
    try {
      return fn();
    } finally {
      this.state.iterator = before;
    }
  }

  interpretedScope<T>(fn: () => T): T {
    const before = this.interpreted;
    this.interpreted = true;
    try {
      return fn();
    } finally {
      this.interpreted = before;
    }
  }

  reject(path: string, message: string): Expr {
    if (!this.interpreted) return this.fail(path, message);
    const error = new LogicError(message);
    return () => {
      throw error;
    };
  }

  private fail(path: string, message: string): Expr {
    this.issues.push({ path, message });
    return () => null;
  }

  private konst(value: unknown): Expr {
    const f: Expr = () => value;
    this.constants.set(f, value);
    return f;
  }

  private evaluator(name: unknown): { found: true; logic: unknown } | { found: false } {
    if (typeof name !== "string" || !this.evaluators || !Object.prototype.hasOwnProperty.call(this.evaluators, name)) {
      return { found: false };
    }
    return { found: true, logic: this.evaluators[name] };
  }

  compile(node: unknown, path: string): Expr {
    if (node === null || typeof node !== "object") return this.konst(node);
    if (++this.depth > MAX_DEPTH) {
      this.depth--;
      return this.fail(path, `nested deeper than ${MAX_DEPTH} levels`);
    }
    try {
      return this.compileObject(node, path);
    } finally {
      this.depth--;
    }
  }

  private compileObject(node: object, path: string): Expr {
    if (Array.isArray(node)) {
      const fns = node.map((n, i) => this.compile(n, `${path}[${i}]`));
      if (fns.every((f) => this.constants.has(f))) return this.konst(fns.map((f) => this.constants.get(f)));
      return (ctx, rt) => fns.map((f) => f(ctx, rt));
    }
    const keys = Object.keys(node);
    if (keys.length === 0) return this.konst(node);
    if (keys.length > 1)
      return this.fail(
        path,
        `an operation has exactly one key (the operator), got ${keys.map((k) => JSON.stringify(k)).join(", ")}`,
      );
    const name = keys[0]!;
    const args = (node as Record<string, unknown>)[name];
    if (name === REF) {
      const ref = this.evaluator(args);
      if (!ref.found) return this.fail(path, `$ref to unknown evaluator ${JSON.stringify(args)}`);
      const refName = args as string;
      if (this.refStack.includes(refName))
        return this.fail(path, `$ref cycle: ${[...this.refStack, refName].join(" → ")}`);
      this.refStack.push(refName);
      try {
        return this.compile(ref.logic, `$evaluators.${refName}`);
      } finally {
        this.refStack.pop();
      }
    }
    const op = LOGIC_OPERATORS.get(name);
    if (!op) {
      return this.fail(
        path,
        UNSUPPORTED_OPERATORS.has(name)
          ? `operator "${name}" is not supported by edgeflags`
          : `unknown operator "${name}"`,
      );
    }
    if (op.deterministic && this.isDeterministic(node, [])) {
      // json-logic-engine evaluates constant built-in expressions once, while building, with its
      // interpreter: same here, with interpreter semantics. An error is a PARSE_ERROR, except
      // inside interpreted scope, where the interpreter meets it at evaluation.
      const fn = this.interpretedScope(() => op.compile(args, this, `${path}.${name}`));
      try {
        return this.konst(fn(EMPTY_CONTEXT, NO_RUNTIME));
      } catch (e) {
        if (this.interpreted) return fn;
        return this.fail(path, `constant expression "${name}" fails: ${(e as Error).message}`);
      }
    }
    return op.compile(args, this, `${path}.${name}`);
  }

  args(raw: unknown, path: string): (ctx: EvaluationContext, rt: Runtime) => unknown[] {
    if (Array.isArray(raw)) {
      const f = this.compile(raw, path);
      return f as (ctx: EvaluationContext, rt: Runtime) => unknown[];
    }
    if (raw === null || typeof raw !== "object") {
      const wrapped = [raw];
      return () => wrapped;
    }
    const f = this.compile(raw, path);
    return (ctx, rt) => {
      const v = f(ctx, rt);
      return Array.isArray(v) ? v : [v];
    };
  }

  /** json-logic-engine's `isDeterministic`: inside an iterator body, `var` reads the element and counts as constant. */
  private isDeterministic(raw: unknown, seen: string[], depth = 0, inside = false): boolean {
    if (raw === null || typeof raw !== "object") return true;
    if (depth > MAX_DEPTH) return false;
    if (Array.isArray(raw)) return raw.every((r) => this.isDeterministic(r, seen, depth + 1, inside));
    const keys = Object.keys(raw);
    if (keys.length === 0) return true;
    if (keys.length > 1) return false;
    const name = keys[0]!;
    const args = (raw as Record<string, unknown>)[name];
    if (name === REF) {
      const ref = this.evaluator(args);
      if (!ref.found || seen.includes(args as string)) return false;
      return this.isDeterministic(ref.logic, [...seen, args as string], depth + 1, inside);
    }
    if (name === "var") return inside && !String(args).includes("../../");
    const op = LOGIC_OPERATORS.get(name);
    if (op === undefined || !op.deterministic) return false;
    if (ITERATORS.has(name)) {
      if (!Array.isArray(args)) return false;
      return (
        this.isDeterministic(args[0], seen, depth + 1, inside) &&
        args.slice(1).every((a) => this.isDeterministic(a, seen, depth + 1, true))
      );
    }
    return this.isDeterministic(args, seen, depth + 1, inside);
  }

  constant(raw: unknown): unknown {
    if (!this.isDeterministic(raw, [])) return NOT_CONSTANT;
    const before = this.issues.length;
    const f = this.compile(raw, "");
    if (this.issues.length !== before) {
      this.issues.length = before;
      return NOT_CONSTANT;
    }
    try {
      return f(EMPTY_CONTEXT, NO_RUNTIME);
    } catch {
      return NOT_CONSTANT;
    }
  }
}

export type TargetingResult = { ok: true; value: CompiledTargeting } | { ok: false; errors: Issue[] };

/** Compile flagd targeting for `flagKey`; issues carry paths under `path`. */
export function compileTargeting(
  targeting: unknown,
  flagKey: string,
  evaluators: Record<string, unknown> | undefined,
  path: string,
): TargetingResult {
  const c = new Compiler(flagKey, evaluators);
  const fn = c.compile(targeting, path);
  if (c.issues.length > 0) return { ok: false, errors: c.issues };
  return { ok: true, value: { fn, timeDependent: c.state.timeDependent } };
}
