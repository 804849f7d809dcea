/**
 * The contract between the core and its callers (store, edge, admin): what evaluation reads
 * (context, options), what it answers (results with OpenFeature reasons and error codes, as
 * values) and the compiled environment that answers. Types only; implemented by evaluator.ts.
 * @module
 */
import type { EnvironmentDoc, FlagType, Metadata } from "./model";

export type Reason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DISABLED" | "DEFAULT" | "ERROR";
/** The OpenFeature error code of an evaluation answered with reason ERROR (not an HTTP error code). */
export type EvaluationErrorCode =
  | "FLAG_NOT_FOUND" | "TYPE_MISMATCH" | "PARSE_ERROR" | "TARGETING_KEY_MISSING" | "INVALID_CONTEXT" | "GENERAL";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** The context an evaluation reads. Never copied or mutated by the engine. */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: unknown;
}

/** Which part of the definition decided, when asked for (`explain: true`). */
export interface Explanation {
  /** "disabled" | "prerequisite" | "target" | "rule" | "fallthrough" | "targeting" | "default" | "error" */
  step: string;
  ruleIndex?: number;
  ruleId?: string;
  segment?: string;
  prerequisite?: { flag: string; expected: string; got?: string };
  bucket?: { by: string; value: number; total: number };
  detail?: string;
}

export interface EvaluationResult {
  key: string;
  /** Absent for disabled flags, errors, and flags with no default variant that no rule matched. */
  value?: JsonValue;
  variant?: string;
  reason: Reason;
  errorCode?: EvaluationErrorCode;
  errorMessage?: string;
  metadata: Readonly<Metadata>;
  explanation?: Explanation;
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
