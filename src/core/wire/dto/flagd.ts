/**
 * The flagd flag-definition document (https://flagd.dev/schema/v0/flags.json) as edgeflags reads
 * and writes it (src/core/flagd/types.ts re-exports the types), and the export answer.
 * @module
 */
import * as z from "zod/mini";
import { Metadata } from "../../model";

export const FLAGD_STATES = ["ENABLED", "DISABLED"] as const;

export const FlagdFlag = z.object({
  state: z.enum(FLAGD_STATES),
  variants: z.record(z.string(), z.json()),
  /** null or absent: no default; a flag no rule matched answers without a value. */
  defaultVariant: z.optional(z.nullable(z.string())),
  /** JSON Logic; `{}` or absent means no targeting. */
  targeting: z.optional(z.unknown()),
  metadata: z.optional(Metadata),
});
export type FlagdFlag = z.infer<typeof FlagdFlag>;

export const FlagdDocument = z
  .object({
    $schema: z.optional(z.string()),
    flags: z.record(z.string(), FlagdFlag),
    $evaluators: z.optional(z.record(z.string(), z.unknown())),
    metadata: z.optional(Metadata),
  })
  .check(z.describe("A flagd flag-definition document (https://flagd.dev/schema/v0/flags.json)."));
export type FlagdDocument = z.infer<typeof FlagdDocument>;

/** `GET …/flagd`: the document, with what flagd cannot express. */
export const FlagdExport = z.intersection(
  FlagdDocument,
  z.object({
    warnings: z
      .optional(z.array(z.unknown()))
      .check(z.describe("What flagd cannot express (e.g. prerequisites); absent when the export is lossless.")),
  }),
);
