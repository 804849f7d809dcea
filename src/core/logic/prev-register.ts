/**
 * json-logic-engine compiles a whole targeting rule into one function with one scratch variable,
 * `prev`, that `var`, comparisons and `and`/`or` all assign. Comparisons then read `prev` after
 * evaluating their right operand, so a `var` on the right changes what the comparison sees: in
 * flagd-core `{"==": [{"var": "missing"}, {"var": ["missing", 0]}]}` is false, not `null == null`.
 * To answer exactly as flagd does, the compiled (not interpreted) closures mirror those writes in
 * this one register. Evaluation is synchronous, so a module-level register is safe.
 * @module
 */
/** The `prev` scratch variable of the compiled rule being evaluated. */
export const prevRegister: { prev: unknown } = { prev: undefined };
