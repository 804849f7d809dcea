/**
 * Native conditions and serves → flagd JSON Logic (flagd's operators: `starts_with`, `ends_with`,
 * `sem_ver`, `fractional`, plus standard JSON Logic). What flagd cannot express becomes a `false`
 * condition and a warning; edgeflags itself keeps the native form (see export.ts).
 * @module
 */
import type { Condition, Operator, Scalar, Segment, Serve } from "../model";
import type { Issue } from "../result";
import { toEpochMs } from "../native/ops/date";
import { normalizeVersion } from "../semver";
import { segmentEvaluatorName } from "./types";
import { SEMVER_OPS } from "../native/ops/semver";

export interface BuildContext {
  segments: ReadonlyMap<string, Segment>;
  warnings: Issue[];
  /**
   * Inside `$evaluators` a segment used by another segment is inlined rather than `$ref`d:
   * flagd-core resolves `$ref` by one textual pass per evaluator, so a `$ref` nested inside an
   * evaluator is only resolved when evaluators happen to come in the right order.
   */
  inlineSegments: boolean;
  /** Segments being inlined, against cycles. */
  stack?: string[];
}

const TARGETING_KEY = { var: "targetingKey" };

const NUMERIC: Partial<Record<Operator, string>> = { lt: "<", lte: "<=", gt: ">", gte: ">=" };

/** JSON Logic for one condition tree; `path` names it in warnings. */
export function conditionToLogic(cond: Condition, path: string, ctx: BuildContext): unknown {
  if ("all" in cond)
    return combine(
      "and",
      cond.all.map((c, i) => conditionToLogic(c, `${path}.all[${i}]`, ctx)),
    );
  if ("any" in cond)
    return combine(
      "or",
      cond.any.map((c, i) => conditionToLogic(c, `${path}.any[${i}]`, ctx)),
    );
  if ("not" in cond) return { "!": conditionToLogic(cond.not, `${path}.not`, ctx) };
  if ("segment" in cond) return segmentCondition(cond.segment, path, ctx);
  return attributeCondition(cond.attribute, cond.op, cond.values, path, ctx);
}

/*
 * Native operators never match a missing or null attribute, and test types strictly; JSON Logic
 * coerces. The guards below make flagd agree with the native engine:
 * - `{"!==": [x, null]}`: present (a missing `var` reads as null). Strict, because the loose form
 *   errors on arrays and objects.
 * - `{"starts_with": [x, ""]}`: flagd's starts_with answers null for anything but a string, so
 *   this is "x is a string".
 * - numbers: not null, true, false or a string (`<` would coerce them). Arrays and objects still
 *   make flagd's `<` fail (ERROR) where the native operator answers false.
 */
const present = (v: unknown) => ({ "!==": [v, null] });
const isString = (v: unknown) => ({ starts_with: [v, ""] });
const notNumberLike = (v: unknown) => [{ "!": { in: [v, [null, true, false]] } }, { "!": isString(v) }];

function attributeCondition(
  attribute: string,
  op: Operator,
  values: Scalar[],
  path: string,
  ctx: BuildContext,
): unknown {
  const v = { var: attribute };
  const first = values[0] ?? null;
  const strings = values.filter((x): x is string => typeof x === "string");
  switch (op) {
    case "equals":
      return { "===": [v, first] };
    case "notEquals":
      return { and: [present(v), { "!==": [v, first] }] };
    case "in":
      return { in: [v, values] };
    case "notIn":
      return { and: [present(v), { "!": { in: [v, values] } }] };
    // Several values: any of them (the native string operators test each).
    case "startsWith":
      return combine(
        "or",
        strings.map((s) => ({ starts_with: [v, s] })),
      );
    case "endsWith":
      return combine(
        "or",
        strings.map((s) => ({ ends_with: [v, s] })),
      );
    // JSON Logic `in` is substring for strings (and membership for arrays, hence the string guard).
    case "contains":
      return {
        and: [
          isString(v),
          combine(
            "or",
            strings.map((s) => ({ in: [s, v] })),
          ),
        ],
      };
    case "notContains":
      return {
        and: [
          isString(v),
          {
            "!": combine(
              "or",
              strings.map((s) => ({ in: [s, v] })),
            ),
          },
        ],
      };
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return { and: [...notNumberLike(v), { [NUMERIC[op]!]: [v, first] }] };
    case "before":
    case "after": {
      const ms = toEpochMs(first);
      if (attribute === "$flagd.timestamp" && Number.isFinite(ms)) {
        // flagd's timestamp is whole seconds: exact to the second.
        return { [op === "before" ? "<" : ">"]: [v, ms / 1000] };
      }
      ctx.warnings.push({
        path,
        message: `operator "${op}" on "${attribute}" has no flagd equivalent (flagd compares dates only as $flagd.timestamp): flagd sees this condition as false (edgeflags keeps it in metadata "edgeflags.targeting")`,
      });
      return false;
    }
    case "matches":
      ctx.warnings.push({
        path,
        message: `operator "matches" (regular expression) has no flagd equivalent: flagd sees this condition as false (edgeflags keeps it in metadata "edgeflags.targeting")`,
      });
      return false;
    default:
      return { sem_ver: [v, SEMVER_OPS[op]!, canonicalVersion(first)] };
  }
}

/**
 * The version as flagd's schema wants it (strict semver: no "v", no partial "2.1"), read exactly
 * as both engines read it; build metadata is dropped, as comparisons ignore it.
 */
function canonicalVersion(raw: Scalar | null): Scalar | null {
  const v = raw === null ? null : normalizeVersion(raw);
  if (v === null) return raw;
  return `${v.major}.${v.minor}.${v.patch}` + (v.pre.length > 0 ? `-${v.pre.join(".")}` : "");
}

function segmentCondition(key: string, path: string, ctx: BuildContext): unknown {
  if (!ctx.inlineSegments) return { $ref: segmentEvaluatorName(key) };
  const segment = ctx.segments.get(key);
  const stack = ctx.stack ?? [];
  if (!segment || stack.includes(key)) {
    ctx.warnings.push({
      path,
      message: segment
        ? `segment "${key}" refers to itself (${[...stack, key].join(" → ")}): exported as false`
        : `unknown segment "${key}": exported as false`,
    });
    return false;
  }
  return segmentToLogic(segment, { ...ctx, stack: [...stack, key] });
}

/**
 * A segment's membership test: not excluded, and included or matching one of its rules
 * (`excluded` wins over both, as in the native model).
 */
export function segmentToLogic(segment: Segment, ctx: BuildContext): unknown {
  const at = `segments.${segment.key}`;
  const stack = ctx.stack ?? [segment.key];
  const inner: BuildContext = { ...ctx, inlineSegments: true, stack };
  const positive: unknown[] = [];
  if (segment.included.length > 0) positive.push({ in: [TARGETING_KEY, segment.included] });
  segment.rules.forEach((rule, i) => positive.push(conditionToLogic(rule, `${at}.rules[${i}]`, inner)));
  const member = positive.length === 0 ? false : combine("or", positive);
  if (segment.excluded.length === 0) return member;
  return { and: [{ "!": { in: [TARGETING_KEY, segment.excluded] } }, member] };
}

/** What a rule or the fallthrough serves: a variant name, or `fractional` for a rollout. */
export function serveToLogic(serve: Serve): unknown {
  if ("variant" in serve) return serve.variant;
  const buckets = serve.rollout.variants.map((w) => [w.variant, w.weight]);
  const by = serve.rollout.bucketBy;
  // Without a first argument flagd hashes `$flagd.flagKey + targetingKey`, as the native rollout does.
  if (by === undefined || by === "targetingKey") return { fractional: buckets };
  const v = { var: by };
  // The native rollout buckets only a non-empty string or a number, else serves the default.
  const bucketable = { and: [{ "!==": [v, true] }, { or: [v, { "===": [v, 0] }] }] };
  return { if: [bucketable, { fractional: [{ cat: [{ var: "$flagd.flagKey" }, v] }, ...buckets] }, null] };
}

/** `targetingKey` is one of these values. */
export function targetLogic(values: string[]): unknown {
  return { in: [TARGETING_KEY, values] };
}

function combine(op: "and" | "or", parts: unknown[]): unknown {
  return parts.length === 1 ? parts[0] : { [op]: parts };
}
