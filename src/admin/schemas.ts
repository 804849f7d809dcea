/**
 * Request-body and query schemas of the admin API (zod/mini). They live apart from the route files
 * so the OpenAPI generator (scripts/openapi.ts, plain Node) can import them without pulling in Hono
 * or Workers types; the routes import them from here.
 * @module
 */
import * as z from "zod/mini";
import { Flag, Key, Segment } from "../core/model";
import { ENVIRONMENT_PATTERN } from "../core/wire/kv-layout";
import { MAX_BATCH_KEYS, MAX_BIG_KEY_LENGTH } from "../core/wire/big-segments";
import { OWNER_PATTERN } from "../core/principal";

export const EnvironmentName = z.string().check(z.regex(ENVIRONMENT_PATTERN, "must match " + ENVIRONMENT_PATTERN.source));

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

export const MintKeyBody = z.object({ kind: z.enum(["client", "server"]) });

export const RollbackBody = z.object({ version: z.number().check(z.int(), z.gte(1)) });

export const ExplainBody = z.object({
  flag: Key,
  context: z._default(z.record(z.string(), z.unknown()), {}),
  /** An unsaved definition of `flag` to evaluate instead of the stored one (the page's preview); nothing is written. */
  draft: z.optional(Flag),
});

export const PromoteBody = z.object({
  to: EnvironmentName,
  /** Keys to copy; absent copies every flag. Segments they use come along. */
  flags: z.optional(z.array(Key).check(z.minLength(1))),
});

export const MintTokenBody = z.object({
  role: z.enum(["admin", "read"]),
  /** Limits the token to these environments; absent means every environment. */
  environments: z.optional(z.array(EnvironmentName).check(z.minLength(1))),
  /** The person the token is for (a principal of its own); absent, it acts for its minter's principal. */
  owner: z.optional(z.string().check(z.regex(OWNER_PATTERN, "must be 1–100 letters, digits or _.@+- (a person's name or address), starting with a letter or digit"))),
});

/** Query strings arrive as text: digits only, then bounded. */
const intText = (min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,9}$/, "must be a whole number")),
    z.pipe(z.transform((s: string) => Number(s)), z.number().check(z.gte(min), z.lte(max))),
  );

export const HistoryQuery = z.object({
  limit: z.optional(intText(1, 1000)),
  before: z.optional(intText(1, 1e9)),
});

export { Flag, Segment };

/** A scheduled change: `patch` is checked against the flag by the store (RFC 7396 merge, then the flag model). */
export const ScheduleBody = z.object({
  at: z.string().check(z.minLength(1), z.maxLength(64)),
  flag: Key,
  patch: z.record(z.string(), z.unknown()),
});

export const PlanBody = z.object({
  variant: Key,
  steps: z.array(z.object({ percent: z.number(), waitSeconds: z.number() })).check(z.minLength(1), z.maxLength(50)),
});

export const PolicyBody = z.object({ approvals: z.number().check(z.int(), z.gte(0), z.lte(10)) });

export const ChangeRequestQuery = z.object({
  status: z.optional(z.enum(["pending", "applied", "rejected", "withdrawn", "conflict"])),
  limit: z.optional(intText(1, 500)),
  /** A `next` from the previous page. */
  before: z.optional(intText(1, 1e9)),
});
export const UsageQuery = z.object({ hours: z.optional(intText(1, 720)) });
export const MetricsQuery = z.object({ minutes: z.optional(intText(1, 1440)) });
export { LifecyclePatch } from "../core/lifecycle";
export { AlertSettingsPatch } from "../core/alerts";
export { WebhookInput as WebhookBody } from "../core/webhook-events";
