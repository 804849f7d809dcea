/**
 * The contract between the core and its callers (store, edge, admin): what evaluation reads
 * (context, options), what it answers (results with OpenFeature reasons and error codes, as
 * values) and the compiled environment that answers. Implemented by environment.ts.
 * @module
 */
import type { EnvironmentDoc, FlagType } from "./model";
import type { EvaluationResult } from "./wire/dto/evaluation";

export type { ErrorCode, EvaluationResult, Explanation, Reason } from "./wire/dto/evaluation";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** The context an evaluation reads. Never copied or mutated by the engine. */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: unknown;
}

export interface EvaluateOptions {
  /** Attach an Explanation to the result. */
  explain?: boolean;
  /** Typed resolution (OpenFeature SDK style): a variant of another type → TYPE_MISMATCH. */
  expectedType?: FlagType | "integer" | "float";
  /** Milliseconds since epoch for `$flagd.timestamp` and date rules; default Date.now(), read lazily. */
  now?: number;
}

export interface CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly clientVisible: boolean;
  /** True when an answer can change with time alone ($flagd.timestamp, before/after): never cache or 304. */
  readonly timeDependent: boolean;
}

export interface CompiledEnvironment {
  /** Flags in a stable order (definition order). */
  readonly flags: readonly CompiledFlag[];
  /** True when any flag is timeDependent. */
  readonly timeDependent: boolean;
  get(key: string): CompiledFlag | undefined;
  /** Never throws: unknown keys → FLAG_NOT_FOUND, bad data → ERROR with a code. */
  evaluate(key: string, context: EvaluationContext, options?: EvaluateOptions): EvaluationResult;
  /** Every flag (or only client-visible ones), in `flags` order. */
  evaluateAll(context: EvaluationContext, options?: { clientOnly?: boolean; now?: number }): EvaluationResult[];
}

export type { EnvironmentDoc };
