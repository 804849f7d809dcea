/**
 * The admin API's one failure shape, `{"error":{"code","message",…}}` (built by src/admin/errors.ts).
 * @module
 */
import * as z from "zod/mini";

export const ADMIN_ERROR_CODES = [
  "UNAUTHORIZED",
  "ADMIN_DISABLED",
  "FORBIDDEN",
  "NOT_FOUND",
  "INVALID",
  "MALFORMED_JSON",
  "PAYLOAD_TOO_LARGE",
  "PRECONDITION_FAILED",
  "CONFLICT",
  "INTERNAL",
  "STORE_UNAVAILABLE",
] as const;
/** `error.code` of an admin HTTP error body (not an evaluation's OpenFeature error code). */
export type HttpErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** A problem in a definition, with its JSON path (e.g. `flags.checkout.rules[2].when.values`). */
export const Issue = z.object({ path: z.string(), message: z.string() });
export type Issue = z.infer<typeof Issue>;

export const ErrorBody = z.object({
  error: z.looseObject({
    code: z.enum(ADMIN_ERROR_CODES),
    message: z.string(),
    issues: z.optional(z.array(Issue)).check(z.describe("Each invalid field, by JSON path.")),
    currentVersion: z.optional(z.int()).check(z.describe("412 only: the current ETag value.")),
    limit: z.optional(z.int()).check(z.describe("413 only: the byte ceiling of the body.")),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
