/**
 * What evaluation answers: the core's result (src/core/evaluation-types.ts re-exports its type), the OFREP
 * 0.3.0 bodies the edge builds from it (spec/ofrep/openapi.yaml), and the SDK snapshot.
 * @module
 */
import * as z from "zod/mini";
import { EnvironmentDoc, Metadata } from "../../model";

export const REASONS = ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "ERROR"] as const;
export type Reason = (typeof REASONS)[number];
export const ERROR_CODES = [
  "FLAG_NOT_FOUND",
  "TYPE_MISMATCH",
  "PARSE_ERROR",
  "TARGETING_KEY_MISSING",
  "INVALID_CONTEXT",
  "GENERAL",
] as const;
/** The OpenFeature error code of an evaluation answered with reason ERROR (not an HTTP error code). */
export type EvaluationErrorCode = (typeof ERROR_CODES)[number];

/** Which part of the definition decided, when asked for (`explain: true`). */
export const Explanation = z.object({
  /** "disabled" | "prerequisite" | "target" | "rule" | "fallthrough" | "targeting" | "default" | "error" */
  step: z.string(),
  ruleIndex: z.optional(z.int()),
  ruleId: z.optional(z.string()),
  segment: z.optional(z.string()),
  prerequisite: z.optional(z.object({ flag: z.string(), expected: z.string(), got: z.optional(z.string()) })),
  bucket: z.optional(z.object({ by: z.string(), value: z.number(), total: z.number() })),
  detail: z.optional(z.string()),
});
export type Explanation = z.infer<typeof Explanation>;

export const EvaluationResult = z.object({
  key: z.string(),
  /** Absent for disabled flags, errors, and flags with no default variant that no rule matched. */
  value: z.optional(z.json()),
  variant: z.optional(z.string()),
  reason: z.enum(REASONS),
  errorCode: z.optional(z.enum(ERROR_CODES)),
  errorMessage: z.optional(z.string()),
  metadata: z.readonly(Metadata),
  explanation: z.optional(Explanation),
});
export type EvaluationResult = z.infer<typeof EvaluationResult>;

// ---- OFREP 0.3.0 ----
export const OfrepRequest = z.object({ context: z.optional(z.record(z.string(), z.unknown())) });

export const OfrepSuccess = z.object({
  key: z.string(),
  value: z.optional(z.json()).check(z.describe("Absent when the client should use its code default.")),
  reason: z.string().check(z.describe(REASONS.join(", "))),
  variant: z.optional(z.string()),
  metadata: z.optional(Metadata),
});
export type OfrepSuccess = z.infer<typeof OfrepSuccess>;

export const OfrepFailure = z.object({
  key: z.string(),
  errorCode: z.string().check(z.describe(ERROR_CODES.join(", "))),
  errorDetails: z.optional(z.string()),
  metadata: z.optional(Metadata),
});
export type OfrepFailure = z.infer<typeof OfrepFailure>;

export const OfrepBulk = z.object({
  flags: z.array(z.union([OfrepSuccess, OfrepFailure])),
  metadata: z.optional(z.looseObject({ version: z.optional(z.int()) })),
});

export const OfrepGeneralError = z.object({ errorCode: z.optional(z.string()), errorDetails: z.optional(z.string()) });

/** `GET /sdk/v1/snapshot` (src/edge/routes.ts). */
export const Snapshot = z.object({
  environment: z.string(),
  version: z.int(),
  publishedAt: z.string(),
  doc: EnvironmentDoc,
});
