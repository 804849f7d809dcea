/**
 * json-logic-engine's truthiness and numeric coercion checks, which flagd-core's compiled
 * targeting uses: [] and {} are false, and numeric comparisons of non-numbers throw.
 * @module
 */
import { LogicError } from "../runtime";

export function truthy(value: unknown): boolean {
  if (!value) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value as object).length > 0;
  return true;
}

export function invalidArguments(op: string): LogicError {
  return new LogicError(`invalid arguments for "${op}"`);
}

const NAN_ERROR = new LogicError("NaN");

/** json-logic-engine `precoerceNumber`. */
export function precoerceNumber(item: unknown): unknown {
  if (Number.isNaN(item)) throw NAN_ERROR;
  if (!item) return item;
  if (typeof item === "object") throw NAN_ERROR;
  return item;
}

/** json-logic-engine `compareCheck`: the right operand as the compiled comparison sees it. */
export function compareCheck(item: unknown, prev: unknown, strict: boolean): unknown {
  if (strict || ((typeof item === "string" || item === null) && (typeof prev === "string" || prev === null)))
    return item;
  if (Number.isNaN(+(precoerceNumber(item) as number)) && prev !== null) throw NAN_ERROR;
  if (Number.isNaN(+(precoerceNumber(prev) as number))) throw NAN_ERROR;
  if (prev === null && !item) return null;
  if (item === null && !prev) return 0;
  return item;
}
