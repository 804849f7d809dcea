/**
 * The native front-end's operator contract: one file per family under ops/, each exporting its
 * operator names and a `NativeOperator`. A test receives the attribute value read from the
 * context and answers a boolean; a missing attribute never matches (negated operators included),
 * and neither does a value of the wrong type.
 * @module
 */
import type { Operator, Scalar } from "../model";
import type { Pred } from "../runtime";
import type { StringIdTables } from "./string-ids";

export type AttributeTest = (value: unknown) => boolean;

export interface NativeOperator {
  readonly names: readonly Operator[];
  /** True when the test depends on the clock (before/after): such answers are never cached. */
  readonly timeDependent?: boolean;
  /** The test for `op` with the rule's `values`, or a message saying what is wrong with them. */
  compile(op: Operator, values: readonly Scalar[]): AttributeTest | string;
  /**
   * Optional: the whole condition on the top-level attribute `attr` as one closure (read and test
   * fused, for the hot path), with the same answers as `compile`; called only after `compile`
   * accepted `values`. Undefined: use `compile`'s test. `ids` is shared by every flag of the
   * environment being compiled.
   */
  fused?(op: Operator, values: readonly Scalar[], attr: string, ids: StringIdTables): Pred | undefined;
}
