/**
 * A core result as OpenFeature resolution details, by the rules the OFREP routes answer with
 * (core/ofrep-answer.ts), so an in-process evaluation resolves as `POST
 * /ofrep/v1/evaluate/flags/{key}` does: the same value, variant, reason and flag metadata; an
 * error code where OFREP answers 400/404; the caller's default where OFREP answers no value
 * (a disabled flag, or no default variant and no rule matched).
 *
 * One check OFREP leaves to its provider is made here: a value of another type than the getter
 * asked for answers TYPE_MISMATCH with the default (typeof, as `@openfeature/ofrep-provider`
 * compares; an object getter accepts any JSON object, array or null).
 * @module
 */
import type { EvaluationContext as OpenFeatureContext, FlagValue, ResolutionDetails } from "@openfeature/server-sdk";
import type { EvaluationContext, EvaluationResult } from "../core/evaluation-types";
import { ofrepStatus, servesValue, toOfrep } from "../core/ofrep-answer";

export type FlagValueKind = "boolean" | "string" | "number" | "object";

const NO_METADATA = Object.freeze({});

/**
 * Resolution details for `result`, or the default with an error code. `served` is called when
 * the result's value is the answer (what usage counts).
 */
export function resolution<T extends FlagValue>(
  result: EvaluationResult,
  defaultValue: T,
  kind: FlagValueKind,
  served?: (result: EvaluationResult) => void,
): ResolutionDetails<T> {
  if (ofrepStatus(result) !== 200) {
    const body = toOfrep(result).body as {
      errorCode: string;
      errorDetails?: string;
      metadata?: Record<string, string | number | boolean>;
    };
    return {
      value: defaultValue,
      reason: "ERROR",
      errorCode: body.errorCode as ResolutionDetails<T>["errorCode"],
      errorMessage: body.errorDetails,
      flagMetadata: body.metadata ?? NO_METADATA,
    };
  }
  // OFREP sends metadata only when non-empty; an empty object is the SDK's own "none".
  const flagMetadata = result.metadata;
  if (!servesValue(result)) return { value: defaultValue, reason: result.reason, flagMetadata };
  const value = result.value;
  if (typeof value !== kind) {
    return {
      value: defaultValue,
      reason: "ERROR",
      errorCode: "TYPE_MISMATCH" as ResolutionDetails<T>["errorCode"],
      errorMessage: `flag '${result.key}' is of type ${value === null ? "null" : typeof value}, not ${kind}`,
      flagMetadata,
    };
  }
  served?.(result);
  return { value: value as T, variant: result.variant, reason: result.reason, flagMetadata };
}

/**
 * The context as the OFREP route would receive it, JSON-encoded by an OFREP provider: Date values
 * (which OpenFeature contexts may hold) become ISO strings, `undefined` members vanish, and
 * numbers JSON cannot write (-0, NaN, ±Infinity) become what it writes for them. The context
 * itself, not a copy, when it holds none of these (the usual case: no allocation).
 */
export function asJsonContext(context: OpenFeatureContext): EvaluationContext {
  return needsEncoding(context, 0)
    ? (JSON.parse(JSON.stringify(context)) as EvaluationContext)
    : (context as EvaluationContext);
}

function needsEncoding(value: unknown, depth: number): boolean {
  if (value === undefined || value instanceof Date) return true;
  // JSON has no -0, Infinity or NaN: they arrive as 0 and null.
  if (typeof value !== "object" || value === null)
    return typeof value === "number" ? !Number.isFinite(value) || Object.is(value, -0) : false;
  // Deeper than any context the OFREP route accepts (core/limits.ts): encode rather than walk on.
  if (depth > 32) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (needsEncoding(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (needsEncoding((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}
