/**
 * flagd JSON Logic targeting → native rules, only where the native model means exactly the same:
 * for every context the converted flag answers the same value, variant and reason (checked by
 * test/core/to-native.node.test.ts, which evaluates both over generated contexts). Anything else is
 * refused with the reason, and the flag keeps its JSON Logic.
 *
 * What converts: a chain of `if` (or `?:`) whose results name variants, its conditions built from
 * `and`, `or`, `!`, `!!`, `===` / `!==` and `in` against a literal, and `starts_with` / `ends_with`
 * on an attribute — forms the flagd exporter (jsonlogic-build.ts) writes for native conditions
 * without guards. (`sem_ver` is not among them: the differential test showed it reading numbers
 * as versions, which native version operators refuse.) Each `if` branch becomes a rule; a final variant (the `else`, or
 * targeting that is just a variant name) becomes a last rule that always matches, because JSON
 * Logic answers it with reason TARGETING_MATCH where a native fallthrough would answer DEFAULT.
 * @module
 */
import type { Condition, Flag, Rule, Scalar } from "../model";
import { FLAGD, splitPath } from "../path";
import { fail, ok, type Result } from "../result";

/** Why operators without an exact native form are refused, in the words the editor shows. */
const REFUSED: Record<string, string> = {
  "==": 'loose equality (==) converts types ("1" == 1); native equals does not. Use ===',
  "!=": "loose inequality (!=) converts types; native conditions do not. Use !==",
  "<": "JSON Logic comparisons (<, <=, >, >=) convert strings to numbers; native ones do not",
  "<=": "JSON Logic comparisons (<, <=, >, >=) convert strings to numbers; native ones do not",
  ">": "JSON Logic comparisons (<, <=, >, >=) convert strings to numbers; native ones do not",
  ">=": "JSON Logic comparisons (<, <=, >, >=) convert strings to numbers; native ones do not",
  sem_ver: "sem_ver reads a number attribute as a version (2 as 2.0.0); native version operators read only strings",
  fractional: "a fractional split answers reason TARGETING_MATCH in JSON Logic, a native rollout SPLIT",
  $ref: "a shared evaluator ($ref) is not inlined here",
  var: "an attribute on its own is a truthiness test, which native conditions do not have",
};

/** The rule that serves JSON Logic's final variant: `$flagd.flagKey` is always the flag's key. */
export const ELSE_RULE_DESCRIPTION = "Every other context (the JSON Logic else branch)";

const refuse = <T>(path: string, message: string): Result<T> => fail([{ path, message }]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/** The flag with native rules instead of `targeting`, or why its targeting has no exact native form. */
export function toNativeRules(flag: Flag): Result<Flag> {
  if (flag.targeting === undefined || flag.targeting === null)
    return refuse("targeting", "the flag has no JSON Logic targeting");
  if (flag.fallthrough || (flag.rules?.length ?? 0) > 0 || (flag.targets?.length ?? 0) > 0) {
    return refuse("targeting", "the flag has native targeting beside its JSON Logic");
  }
  const rules: Rule[] = [];
  let tail: unknown = flag.targeting;
  let path = "targeting";
  for (;;) {
    if (tail === null) break;
    if (typeof tail === "string") {
      const variant = servedVariant(flag, tail, path);
      if (!variant.ok) return variant;
      rules.push({
        description: ELSE_RULE_DESCRIPTION,
        when: { attribute: "$flagd.flagKey", op: "equals", values: [flag.key] },
        serve: { variant: variant.value },
      });
      break;
    }
    const chain = ifChain(tail, path);
    if (!chain.ok) return chain;
    const { args, op } = chain.value;
    for (let i = 0; i + 1 < args.length; i += 2) {
      const when = condition(args[i], `${path}.${op}[${i}]`);
      if (!when.ok) return when;
      const result = args[i + 1];
      if (result === null)
        return refuse(
          `${path}.${op}[${i + 1}]`,
          "a branch that serves the default before later branches has no native form (rules serve a variant)",
        );
      if (typeof result !== "string") return refuse(`${path}.${op}[${i + 1}]`, "a branch must name a variant");
      const variant = servedVariant(flag, result, `${path}.${op}[${i + 1}]`);
      if (!variant.ok) return variant;
      rules.push({ when: when.value, serve: { variant: variant.value } });
    }
    if (args.length % 2 === 0) break;
    path = `${path}.${op}[${args.length - 1}]`;
    tail = args[args.length - 1];
  }
  if (rules.length === 0) return refuse("targeting", "the targeting never serves a variant");
  const { targeting: _logic, ...rest } = flag;
  return ok({ ...rest, rules });
}

function servedVariant(flag: Flag, name: string, path: string): Result<string> {
  if (!Object.hasOwn(flag.variants ?? {}, name))
    return refuse(path, `"${name}" is not a variant of the flag (JSON Logic answers an error for it)`);
  return ok(name);
}

function ifChain(logic: unknown, path: string): Result<{ op: string; args: unknown[] }> {
  const op = soleKey(logic);
  if (op === undefined) return refuse(path, "the targeting is not an if chain of variants");
  if (op !== "if" && op !== "?:")
    return refuse(path, REFUSED[op] ?? `"${op}" at the top of the targeting is not an if chain of variants`);
  const args = (logic as Record<string, unknown>)[op];
  if (!Array.isArray(args) || args.length < 2) return refuse(`${path}.${op}`, "an if needs a condition and a result");
  return ok({ op, args });
}

/** The one operator of a JSON Logic operation, or undefined for anything else. */
function soleKey(logic: unknown): string | undefined {
  if (!isObject(logic)) return undefined;
  const keys = Object.keys(logic);
  return keys.length === 1 ? keys[0] : undefined;
}

/** A condition's arguments as a list (JSON Logic allows a single argument unwrapped). */
function argList(logic: Record<string, unknown>, op: string): unknown[] {
  const a = logic[op];
  return Array.isArray(a) ? a : [a];
}

/**
 * The attribute path of `{"var": "path"}`; undefined for anything else (defaults, indices), and for
 * nested paths other than `$flagd.*`: JSON Logic reads `user.tier` of a context whose `user` is
 * "", 0 or false as that value itself, where a native condition reads it as missing.
 */
function attributeOf(v: unknown): string | undefined {
  if (!isObject(v) || soleKey(v) !== "var") return undefined;
  const p = Array.isArray(v.var) && v.var.length === 1 ? v.var[0] : v.var;
  if (typeof p !== "string" || p === "") return undefined;
  const parts = splitPath(p);
  return parts.length === 1 || (parts.length === 2 && parts[0] === FLAGD) ? p : undefined;
}

const ATTRIBUTE_ONLY =
  '(a top-level attribute or $flagd.*: JSON Logic reads user.tier of a user that is "", 0 or false as that value, native conditions as missing)';

function condition(logic: unknown, path: string): Result<Condition> {
  const op = soleKey(logic);
  if (op === undefined) return refuse(path, "only operations on attributes convert (a constant condition does not)");
  const args = argList(logic as Record<string, unknown>, op);
  const at = `${path}.${op}`;
  switch (op) {
    case "and":
    case "or": {
      if (args.length === 0) return refuse(at, `an empty ${op} has no native form`);
      const parts: Condition[] = [];
      for (let i = 0; i < args.length; i++) {
        const c = condition(args[i], `${at}[${i}]`);
        if (!c.ok) return c;
        parts.push(c.value);
      }
      return ok(parts.length === 1 ? parts[0]! : op === "and" ? { all: parts } : { any: parts });
    }
    case "!":
    case "!!": {
      if (args.length !== 1) return refuse(at, `${op} takes one argument`);
      const c = condition(args[0], `${at}[0]`);
      if (!c.ok) return c;
      return ok(op === "!" ? { not: c.value } : c.value);
    }
    case "===":
    case "!==": {
      const pair = attributeAndLiteral(args);
      if (!pair)
        return refuse(at, `${op} converts only between an attribute and a string, number or boolean ${ATTRIBUTE_ONLY}`);
      const equals: Condition = { attribute: pair.attribute, op: "equals", values: [pair.literal] };
      return ok(op === "===" ? equals : { not: equals });
    }
    case "in": {
      const attribute = attributeOf(args[0]);
      const list = args[1];
      if (
        args.length !== 2 ||
        attribute === undefined ||
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every(isScalar)
      ) {
        return refuse(
          at,
          `in converts only as an attribute in a non-empty list of strings, numbers or booleans; substring tests do not ${ATTRIBUTE_ONLY}`,
        );
      }
      return ok({ attribute, op: "in", values: list });
    }
    case "starts_with":
    case "ends_with": {
      const attribute = attributeOf(args[0]);
      if (args.length !== 2 || attribute === undefined || typeof args[1] !== "string")
        return refuse(at, `${op} converts only as an attribute and a string ${ATTRIBUTE_ONLY}`);
      return ok({ attribute, op: op === "starts_with" ? "startsWith" : "endsWith", values: [args[1]] });
    }
    default:
      return refuse(at, REFUSED[op] ?? `"${op}" has no exact native form`);
  }
}

function attributeAndLiteral(args: unknown[]): { attribute: string; literal: Scalar } | undefined {
  if (args.length !== 2) return undefined;
  const [a, b] = args;
  const attribute = attributeOf(a) ?? attributeOf(b);
  const literal = attributeOf(a) !== undefined ? b : a;
  return attribute !== undefined && isScalar(literal) ? { attribute, literal } : undefined;
}
