/**
 * Core evaluation result → OFREP 0.3.0 answer (status and body), in one place: the edge's OFREP
 * routes render it (edge/ofrep.ts) and the in-process SDK (src/sdk/) resolves by the same rules.
 *
 * - Success: 200 `{key, value, reason, variant, metadata}`; `metadata` only when non-empty.
 * - Disabled, or no default variant and no rule matched: 200 `{key, reason}` with no `value`
 *   (OFREP `codeDefaultFlag`: the provider uses its code default). Metadata is kept when present.
 * - `FLAG_NOT_FOUND` → 404; every other error code → 400, body `{key, errorCode, errorDetails}`.
 *   `GENERAL` included: the engine answers it when a rule cannot evaluate the caller's context
 *   (a value of a type the rule cannot compare, a variant the targeting names that the flag lacks),
 *   as flagd-core does; that is the caller's doing, and the OFREP spec lists GENERAL among its
 *   400 codes. A 5xx would count toward the `error-rate` alert, which pauses release plans: a
 *   public client key could pause them. 5xx is kept for what the server gets wrong.
 * @module
 */
import type { EvaluationResult } from "./evaluation-types";
import type { OfrepFailure, OfrepSuccess } from "./wire/dto/evaluation";

export type { OfrepFailure, OfrepSuccess };

export type OfrepStatus = 200 | 400 | 404;

/** The HTTP status of a single answer, without building its body (the body text is kept: ofrepJson). */
export function ofrepStatus(result: EvaluationResult): OfrepStatus {
  if (!result.errorCode && result.reason !== "ERROR") return 200;
  const errorCode = result.errorCode ?? "GENERAL";
  return errorCode === "FLAG_NOT_FOUND" ? 404 : 400;
}

/**
 * Whether a 200 answer carries the result's value: not when the flag is disabled, nor when no
 * rule matched and there is no default variant (OFREP `codeDefaultFlag`: the caller's default).
 */
export function servesValue(result: EvaluationResult): boolean {
  return result.value !== undefined && result.reason !== "DISABLED";
}

export function toOfrep(result: EvaluationResult): { status: OfrepStatus; body: OfrepSuccess | OfrepFailure } {
  const metadata = result.metadata && Object.keys(result.metadata).length > 0 ? { ...result.metadata } : undefined;
  const status = ofrepStatus(result);
  if (status !== 200) {
    const errorCode = result.errorCode ?? "GENERAL";
    const body: OfrepFailure = {
      key: result.key,
      errorCode,
      errorDetails: errorCode === "FLAG_NOT_FOUND" ? notFoundDetails(result.key) : (result.errorMessage ?? errorCode),
    };
    if (metadata && errorCode !== "FLAG_NOT_FOUND") body.metadata = metadata;
    return { status, body };
  }
  const body: OfrepSuccess = { key: result.key, reason: result.reason };
  if (servesValue(result)) {
    body.value = result.value;
    if (result.variant !== undefined) body.variant = result.variant;
  }
  if (metadata) body.metadata = metadata;
  return { status: 200, body };
}

/** A bulk item never changes the status of the whole answer: it is the body alone. */
export function toOfrepItem(result: EvaluationResult): OfrepSuccess | OfrepFailure {
  return toOfrep(result).body;
}

/** The `errorDetails` of FLAG_NOT_FOUND, however the flag was found missing (route or engine). */
export function notFoundDetails(key: string): string {
  return `flag '${key}' was not found`;
}

/** Request-level failures (no flag key involved), in the bulk failure shape `{errorCode, errorDetails}`. */
export function ofrepError(errorCode: string, errorDetails: string, key?: string): Record<string, string> {
  return key === undefined ? { errorCode, errorDetails } : { key, errorCode, errorDetails };
}
