/**
 * The native front-end's operator contract: one file per family under ops/, each exporting its
 * operator names and a `NativeOperator`. A test receives the attribute value read from the
 * context and answers a boolean; a missing attribute never matches (negated operators included),
 * and neither does a value of the wrong type.
 * @module
 */
import type { Operator, Scalar } from "../model";

export type AttributeTest = (value: unknown) => boolean;

export interface NativeOperator {
  readonly names: readonly Operator[];
  /** True when the test depends on the clock (before/after): such answers are never cached. */
  readonly timeDependent?: boolean;
  /** The test for `op` with the rule's `values`, or a message saying what is wrong with them. */
  compile(op: Operator, values: readonly Scalar[]): AttributeTest | string;
}
