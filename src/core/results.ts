/**
 * Preallocated, frozen evaluation results. Every (variant, reason) pair of a flag is built once at
 * compile time and returned as is on each evaluation: callers must treat results as read-only
 * (they are frozen, so a write throws in strict mode instead of corrupting later answers).
 * @module
 */
import type { Metadata } from "./model";
import type { ErrorCode, EvaluationResult, JsonValue, Reason } from "./result";

type VariantReason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DEFAULT";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** A detached, frozen copy of a JSON value (the definition document stays the caller's). */
export function frozenJson(value: unknown): JsonValue {
  if (value === null || typeof value !== "object") return value as JsonValue;
  return deepFreeze(JSON.parse(JSON.stringify(value)) as JsonValue);
}

export class FlagResults {
  private readonly byVariant = new Map<string, Record<VariantReason, EvaluationResult>>();
  readonly disabled: EvaluationResult;
  readonly noValueDefault: EvaluationResult;
  readonly generalError: EvaluationResult;

  constructor(readonly key: string, variants: Record<string, unknown>, readonly metadata: Readonly<Metadata>) {
    for (const [variant, raw] of Object.entries(variants)) {
      const value = frozenJson(raw);
      const make = (reason: Reason): EvaluationResult => Object.freeze({ key, value, variant, reason, metadata });
      this.byVariant.set(variant, {
        STATIC: make("STATIC"),
        TARGETING_MATCH: make("TARGETING_MATCH"),
        SPLIT: make("SPLIT"),
        DEFAULT: make("DEFAULT"),
      });
    }
    this.disabled = Object.freeze({ key, reason: "DISABLED", metadata });
    this.noValueDefault = Object.freeze({ key, reason: "DEFAULT", metadata });
    this.generalError = this.error("GENERAL", `Error evaluating targeting rule for flag '${key}'`);
  }

  /** The result serving `variant` for `reason`; undefined for a variant the flag does not define. */
  get(variant: string, reason: VariantReason): EvaluationResult | undefined {
    return this.byVariant.get(variant)?.[reason];
  }

  /** All results for one reason, keyed by variant, for the hot path of JSON Logic targeting. */
  table(reason: VariantReason): Map<string, EvaluationResult> {
    return new Map([...this.byVariant].map(([v, r]) => [v, r[reason]]));
  }

  /** The default variant for `reason`, or the value-less DEFAULT when there is none. */
  fallback(defaultVariant: string | null | undefined, reason: VariantReason): EvaluationResult {
    return (defaultVariant ? this.get(defaultVariant, reason) : undefined) ?? this.noValueDefault;
  }

  error(errorCode: ErrorCode, errorMessage: string): EvaluationResult {
    return Object.freeze({ key: this.key, reason: "ERROR", errorCode, errorMessage, metadata: this.metadata });
  }
}
