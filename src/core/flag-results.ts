/**
 * Preallocated, frozen evaluation results. Each (variant, reason) pair a flag can answer is built
 * once at compile time (when a serve, target or default first names it) and returned as is on each
 * evaluation: callers must treat results as read-only
 * (they are frozen, so a write throws in strict mode instead of corrupting later answers).
 * @module
 */
import type { Metadata } from "./model";
import type { EvaluationErrorCode, EvaluationResult, JsonValue } from "./evaluation-types";

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

/**
 * A slot on every result made here for what a caller derives from the result and keeps per
 * isolate: the edge keeps the result's OFREP JSON in it (stringified once per snapshot, however
 * many evaluations serve it) and its usage tally (a field increment per evaluation instead of a
 * Map update). Results are frozen; the slot object is not. Not enumerable, so spreads, JSON and
 * equality checks never see it (a spread copy has no slot).
 */
export const RENDERED: unique symbol = Symbol("edgeflags.rendered");
export interface RenderSlot {
  text: string | undefined;
  /** `text` after a comma: a bulk item past the first, kept flat so a bulk answer links one piece per flag. */
  item: string | undefined;
  /** The counter that owns `client`/`server` now; another owner starts them again from 0. */
  countedBy: object | undefined;
  client: number;
  server: number;
}

/** The result's render slot, when it was made by FlagResults. */
export function renderSlot(result: EvaluationResult): RenderSlot | undefined {
  return (result as { [RENDERED]?: RenderSlot })[RENDERED];
}

function sealed(result: EvaluationResult): EvaluationResult {
  Object.defineProperty(result, RENDERED, {
    value: { text: undefined, item: undefined, countedBy: undefined, client: 0, server: 0 } satisfies RenderSlot,
  });
  return Object.freeze(result);
}

/** One variant's frozen value and its results, built on first use (a flag serves few pairs). */
class VariantSlot {
  STATIC: EvaluationResult | undefined = undefined;
  TARGETING_MATCH: EvaluationResult | undefined = undefined;
  SPLIT: EvaluationResult | undefined = undefined;
  DEFAULT: EvaluationResult | undefined = undefined;
  constructor(readonly value: JsonValue) {}
}

export class FlagResults {
  // Results are created lazily at compile time, when a serve, target or default names them:
  // eagerly building four per variant made a 10k-flag compile allocate ~190k objects it never used.
  private readonly byVariant = new Map<string, VariantSlot>();
  private disabledResult: EvaluationResult | undefined;
  private noValueResult: EvaluationResult | undefined;
  private generalErrorResult: EvaluationResult | undefined;

  constructor(
    readonly key: string,
    variants: Record<string, unknown>,
    readonly metadata: Readonly<Metadata>,
  ) {
    for (const variant of Object.keys(variants))
      this.byVariant.set(variant, new VariantSlot(frozenJson(variants[variant])));
  }

  get disabled(): EvaluationResult {
    return (this.disabledResult ??= sealed({ key: this.key, reason: "DISABLED", metadata: this.metadata }));
  }

  get noValueDefault(): EvaluationResult {
    return (this.noValueResult ??= sealed({ key: this.key, reason: "DEFAULT", metadata: this.metadata }));
  }

  get generalError(): EvaluationResult {
    return (this.generalErrorResult ??= this.error(
      "GENERAL",
      `Error evaluating targeting rule for flag '${this.key}'`,
    ));
  }

  /** The result serving `variant` for `reason`; undefined for a variant the flag does not define. */
  get(variant: string, reason: VariantReason): EvaluationResult | undefined {
    const slot = this.byVariant.get(variant);
    if (!slot) return undefined;
    return (slot[reason] ??= sealed({ key: this.key, value: slot.value, variant, reason, metadata: this.metadata }));
  }

  /** All results for one reason, keyed by variant, for the hot path of JSON Logic targeting. */
  table(reason: VariantReason): Map<string, EvaluationResult> {
    return new Map([...this.byVariant.keys()].map((v) => [v, this.get(v, reason)!]));
  }

  /** The default variant for `reason`, or the value-less DEFAULT when there is none. */
  fallback(defaultVariant: string | null | undefined, reason: VariantReason): EvaluationResult {
    return (defaultVariant ? this.get(defaultVariant, reason) : undefined) ?? this.noValueDefault;
  }

  error(errorCode: EvaluationErrorCode, errorMessage: string): EvaluationResult {
    return sealed({ key: this.key, reason: "ERROR", errorCode, errorMessage, metadata: this.metadata });
  }
}
