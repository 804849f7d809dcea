/**
 * Every JSON Logic operator edgeflags evaluates, by name. Each family lives in its own file.
 * @module
 */
import { arithmeticOperators } from "./ops/arithmetic";
import { arrayOperators } from "./ops/array";
import { booleanOperators } from "./ops/boolean";
import { comparisonOperators } from "./ops/comparison";
import { dataOperators } from "./ops/data";
import { fractionalOperators } from "./ops/fractional";
import { semverOperators } from "./ops/semver";
import { stringOperators } from "./ops/string";
import type { LogicOperator } from "./types";

export const LOGIC_OPERATORS: ReadonlyMap<string, LogicOperator> = new Map(
  [
    ...comparisonOperators,
    ...arithmeticOperators,
    ...arrayOperators,
    ...booleanOperators,
    ...stringOperators,
    ...dataOperators,
    ...semverOperators,
    ...fractionalOperators,
  ].map((op) => [op.name, op]),
);

/** json-logic-engine built-ins that flagd accepts but edgeflags does not evaluate (yet). */
export const UNSUPPORTED_OPERATORS: ReadonlySet<string> = new Set([
  "every",
  "??",
  "try",
  "throw",
  "length",
  "keys",
  "pipe",
  "exists",
  "val",
  "get",
  "eachKey",
  "preserve",
  "not",
]);
