/**
 * Evaluation results as values (OpenFeature reasons and error codes), and the Result type the
 * core returns instead of throwing.
 * @module
 */
import type { Metadata } from "./model";

export type Reason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DISABLED" | "DEFAULT" | "ERROR";
export type ErrorCode =
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
  errorCode?: ErrorCode;
  errorMessage?: string;
  metadata: Readonly<Metadata>;
  explanation?: Explanation;
}

/** A problem in a definition, with its JSON path (e.g. `flags.checkout.rules[2].when.values`). */
export interface Issue {
  path: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: Issue[] };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(errors: Issue[]): Result<T> => ({ ok: false, errors });
