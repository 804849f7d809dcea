/** Every native condition operator, by name. @module */
import type { Operator } from "../model";
import { dateOperator } from "./ops/date";
import { equalityOperator } from "./ops/equality";
import { membershipOperator } from "./ops/membership";
import { numericOperator } from "./ops/numeric";
import { regexOperator } from "./ops/regex";
import { semverOperator } from "./ops/semver";
import { stringOperator } from "./ops/string";
import type { NativeOperator } from "./types";

export const NATIVE_OPERATORS: ReadonlyMap<Operator, NativeOperator> = new Map(
  [
    equalityOperator,
    membershipOperator,
    stringOperator,
    regexOperator,
    numericOperator,
    semverOperator,
    dateOperator,
  ].flatMap((o) => o.names.map((n) => [n, o] as const)),
);
