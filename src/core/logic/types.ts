/**
 * The JSON Logic front-end's operator contract: each operator file exports one or more
 * `LogicOperator`s, registered by name in operators.ts.
 * @module
 */
import type { PathCompileState } from "../path";
import { LogicError, type Expr } from "../runtime";

export interface LogicCompiler {
  readonly state: PathCompileState;
  /** Compile a sub-expression found at `path` (for error messages). */
  compile(node: unknown, path: string): Expr;
  /**
   * The arguments as json-logic-engine hands them to an eager operator: an array literal is
   * evaluated element by element, any other value is evaluated and wrapped in an array when it is
   * not one.
   */
  args(raw: unknown, path: string): (ctx: Parameters<Expr>[0], rt: Parameters<Expr>[1]) => unknown[];
  /** The value of `raw` when it is a constant (no context read), else NOT_CONSTANT. */
  constant(raw: unknown): unknown;
  /**
   * True inside the branches of a one- or two-argument `if`: json-logic-engine does not compile
   * those, it interprets them, and its interpreter differs in small ways (`var` keeps null values
   * instead of taking the default, `cat` skips nulls, `!` reads an array's first element).
   */
  readonly interpreted: boolean;
  /**
   * A problem json-logic-engine finds while building (flagd: PARSE_ERROR): an issue at `path`, or,
   * in interpreted scope where nothing is built ahead, an evaluation error.
   */
  reject(path: string, message: string): Expr;
  /** Compile an iterator body: its context is the current element (see PathCompileState.iterator). */
  iteratorScope<T>(fn: () => T): T;
  /** Compile within `fn` with interpreter semantics. */
  interpretedScope<T>(fn: () => T): T;
}

export const NOT_CONSTANT: unique symbol = Symbol("not constant");

export interface LogicOperator {
  readonly name: string;
  /**
   * json-logic-engine evaluates deterministic built-ins with constant arguments once, at build
   * time, so their errors surface as PARSE_ERROR. flagd's own operators are never folded.
   */
  readonly deterministic: boolean;
  compile(args: unknown, c: LogicCompiler, path: string): Expr;
}

/**
 * flagd's own operators (starts_with, ends_with, sem_ver, fractional) inside an iterator body
 * (`some`, `map`, ...): flagd-core 4.0.1 runs the body with the element as context, where its
 * operators look for their logger and throw ("Logger not found in context"), so the evaluation
 * answers ERROR/GENERAL. edgeflags answers the same, for flagd-core parity (docs/api.md
 * "Evaluation (OFREP)": the 400 `GENERAL` answer).
 */
export function flagdOperatorInIterator(name: string): Expr {
  const error = new LogicError(
    `"${name}" inside an iterator body fails in flagd-core (no logger in the element context)`,
  );
  return () => {
    throw error;
  };
}
