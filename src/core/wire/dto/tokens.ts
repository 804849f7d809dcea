/**
 * Scoped admin tokens as the Registry answers them (src/store/registry) and `/admin/v1/tokens`
 * shows them.
 * @module
 */
import * as z from "zod/mini";
import { ADMIN_ROLES } from "./enums";

export const AdminTokenInfo = z.object({
  id: z.string(),
  role: z.enum(ADMIN_ROLES),
  environments: z.optional(z.array(z.string())),
  prefix: z.string(),
  createdAt: z.string(),
  /** The actor that minted it ("bootstrap" or a token id). */
  createdBy: z.string().check(z.describe("The actor that minted it (`bootstrap` or a token id).")),
  /** The person it was minted for, when named (src/core/principal.ts). */
  owner: z.optional(z.string()).check(z.describe("The person it was minted for (a principal of its own).")),
  /** Who it acts for: `owner`, else its minter's principal. */
  principal: z
    .string()
    .check(
      z.describe(
        "Who it acts for: `owner`, else its minter's principal. Change requests count reviewers by principal.",
      ),
    ),
  revokedAt: z.optional(z.string()),
});
export type AdminTokenInfo = z.infer<typeof AdminTokenInfo>;

export const MintedToken = z.intersection(
  AdminTokenInfo,
  z.object({
    token: z.string().check(z.describe("Shown only in this answer; stored hashed.")),
  }),
);
export type MintedToken = z.infer<typeof MintedToken>;
