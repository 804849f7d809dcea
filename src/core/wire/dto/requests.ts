/**
 * Request bodies and query strings of the admin API (zod/mini): the routes validate with them
 * (through src/admin/schemas.ts) and scripts/openapi.ts documents them, so both read one
 * declaration. Query numbers arrive as text: digits only, then bounded.
 * @module
 */
import * as z from "zod/mini";
import { AlertSettingsPatch } from "../../alerts";
import { LifecyclePatch } from "../../lifecycle";
import { Flag, Key, Segment } from "../../model";
import { OWNER_PATTERN } from "../../principal";
import { MAX_PLAN_STEPS } from "../../rollout-plan";
import { WebhookInput } from "../../webhook-events";
import { MAX_BATCH_KEYS, MAX_BIG_KEY_LENGTH } from "../big-segments";
import { ENVIRONMENT_PATTERN, KEY_KINDS } from "../kv-layout";
import { ADMIN_ROLES, CHANGE_REQUEST_STATUSES } from "./enums";

export const EnvironmentName = z
  .string()
  .check(z.regex(ENVIRONMENT_PATTERN, "must match " + ENVIRONMENT_PATTERN.source));

/** The URL names the key, so the body may omit it; when present it must agree (checked in the route). */
export const FlagBody = z.extend(Flag, { key: z.optional(Key) });
export const SegmentBody = z.extend(Segment, { key: z.optional(Key) });

const BigKey = z.string().check(z.minLength(1), z.maxLength(MAX_BIG_KEY_LENGTH));
/** `POST …/segments/{key}/keys`: at most 100,000 keys in all (the route checks the sum). */
export const KeyBatchBody = z.object({
  add: z._default(z.array(BigKey).check(z.maxLength(MAX_BATCH_KEYS)), []),
  remove: z._default(z.array(BigKey).check(z.maxLength(MAX_BATCH_KEYS)), []),
});

export const ToggleBody = z.object({ enabled: z.boolean() });

export const MintKeyBody = z.object({ kind: z.enum(KEY_KINDS) });

export const RollbackBody = z.object({ version: z.number().check(z.int(), z.gte(1)) });

export const ExplainBody = z.object({
  flag: Key,
  context: z._default(z.record(z.string(), z.unknown()), {}),
  /** An unsaved definition of `flag` to evaluate instead of the stored one (the page's preview); nothing is written. */
  draft: z.optional(Flag),
});

/** A flag definition (saved or not) whose JSON Logic the page offers to turn into native rules. */
export const NativeRulesBody = z.object({ draft: Flag });

export const PromoteBody = z.object({
  to: EnvironmentName,
  /** Keys to copy; absent copies every flag. Segments they use come along. */
  flags: z.optional(z.array(Key).check(z.minLength(1))),
});

export const MintTokenBody = z.object({
  role: z.enum(ADMIN_ROLES),
  /** Limits the token to these environments; absent means every environment. */
  environments: z.optional(z.array(EnvironmentName).check(z.minLength(1))),
  /** The person the token is for (a principal of its own); absent, it acts for its minter's principal. */
  owner: z.optional(
    z
      .string()
      .check(
        z.regex(
          OWNER_PATTERN,
          "must be 1–100 letters, digits or _.@+- (a person's name or address), starting with a letter or digit",
        ),
      ),
  ),
});

/** A scheduled change: `patch` is checked against the flag by the store (RFC 7396 merge, then the flag model). */
export const ScheduleBody = z.object({
  at: z.string().check(z.minLength(1), z.maxLength(64)),
  flag: Key,
  patch: z.record(z.string(), z.unknown()),
});

/** One step of a release plan: the plan body's and the plan's (checked further by core/rollout-plan.ts `checkSteps`). */
export const PlanStep = z.object({
  /** Share of users served the plan's variant from this step on: 0 < percent ≤ 100, at most two decimals. */
  percent: z.number(),
  /** How long this step holds before the next one applies (the last step's is not used). */
  waitSeconds: z.int(),
});
export type PlanStep = z.infer<typeof PlanStep>;

/** The steps are the plan's own (PlanStep): `waitSeconds` is a whole number in both. */
export const PlanBody = z.object({
  variant: Key,
  steps: z.array(PlanStep).check(z.minLength(1), z.maxLength(MAX_PLAN_STEPS)),
});

export const Policy = z.object({
  /** Approvals every write needs (0: none, writes apply at once). */
  approvals: z.number().check(z.int(), z.gte(0), z.lte(10)),
});
export type Policy = z.infer<typeof Policy>;
export const PolicyBody = Policy;

export { AlertSettingsPatch, LifecyclePatch, WebhookInput as WebhookBody };

/** The largest number nine digits write: a query number has at most nine. */
const MAX_QUERY_INT = 999_999_999;
/** A query-string number: digits only, then a whole number within bounds (documented as an integer). */
const intText = (min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,9}$/, "must be a whole number")),
    z.pipe(
      z.transform((s: string) => Number(s)),
      z.int().check(z.gte(min), z.lte(max)),
    ),
  );

export const HistoryQuery = z.object({
  limit: z.optional(intText(1, 1000)),
  before: z.optional(intText(1, MAX_QUERY_INT)).check(z.describe("Only versions below this one.")),
});

export const ChangeRequestQuery = z.object({
  status: z.optional(z.enum(CHANGE_REQUEST_STATUSES)),
  limit: z.optional(intText(1, 500)).check(z.describe("Page size (default 200).")),
  /** A `next` from the previous page. */
  before: z.optional(intText(1, MAX_QUERY_INT)).check(z.describe("A `next` from the previous page.")),
});
/** How the store pages change requests: the query, parsed. */
export type ChangeRequestPage = z.output<typeof ChangeRequestQuery>;

export const UsageQuery = z.object({ hours: z._default(intText(1, 720), 24) });
export const MetricsQuery = z.object({ minutes: z._default(intText(1, 1440), 60) });
