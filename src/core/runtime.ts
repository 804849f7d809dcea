/**
 * What compiled closures share: the per-evaluation runtime, the closure shapes both front-ends
 * (flagd JSON Logic and native conditions) compile to, and the one error type evaluation uses.
 * @module
 */
import type { EvaluationContext, Explanation } from "./evaluation-types";

/**
 * Per-evaluation state. A shared frozen instance is used when nothing needs it, so ordinary
 * evaluations allocate nothing: `now` is filled only for flags that read time, `trace` only when
 * an explanation was asked for.
 */
export interface Runtime {
  /** Milliseconds since epoch, fixed once per evaluation (undefined: the flag never reads time). */
  readonly now: number | undefined;
  /** Filled while deciding, when `explain: true`. */
  readonly trace: Explanation | undefined;
}

export const NO_RUNTIME: Runtime = Object.freeze({ now: undefined, trace: undefined });

/** A compiled JSON Logic expression or native attribute read. */
export type Expr = (ctx: EvaluationContext, rt: Runtime) => unknown;
/** A compiled condition. */
export type Pred = (ctx: EvaluationContext, rt: Runtime) => boolean;

/**
 * Thrown by a JSON Logic closure where json-logic-engine (flagd-core's engine) throws, e.g. a
 * numeric comparison of a non-numeric string. The flag evaluation catches it once and answers
 * ERROR/GENERAL as flagd does; it never leaves the engine.
 */
export class LogicError extends Error {}

/** Milliseconds since epoch for this evaluation. */
export function nowMs(rt: Runtime): number {
  return rt.now ?? Date.now();
}
