/**
 * Answers about one environment and its items: the environment itself, committed versions, stored
 * flags and segments, the audit log, SDK keys. Each shape is declared once, here: the store and the
 * routes use the inferred types, scripts/openapi.ts the schemas (registered in openapi-schemas.ts).
 * @module
 */
import * as z from "zod/mini";
import { Flag, Segment } from "../../model";
import { KEY_KINDS } from "../kv-layout";
import { FlagLifecycle } from "./insights";

/** Who made a change: the admin token id ("bootstrap" for ADMIN_TOKEN). Recorded in the audit log. */
export const Actor = z.string();
export type Actor = z.infer<typeof Actor>;

export const Committed = z.object({
  /** The new environment version. */
  version: z.int(),
});
export type Committed = z.infer<typeof Committed>;

export const EnvironmentInfo = z.object({ name: z.string(), version: z.int(), flags: z.int(), segments: z.int() });
export type EnvironmentInfo = z.infer<typeof EnvironmentInfo>;

/** `PUT …/environments/{env}`: its name and current version (201 created, 200 it existed). */
export const CreatedEnvironment = z.pick(EnvironmentInfo, { name: true, version: true });

const Versioned = z.object({
  /** Environment version of this item's last change: its ETag. */
  version: z.int().check(z.describe("Environment version of the item's last change (its ETag).")),
});
export type Stored<T> = T & z.infer<typeof Versioned>;

const readOnly = (what: string) => z.describe(`Read-only: ${what}`);
/** A flag as GET answers it: its version and, when they could be computed, its lifecycle fields. */
export const StoredFlag = z.intersection(
  Flag,
  z.extend(Versioned, {
    status: z.optional(FlagLifecycle.shape.status).check(readOnly("computed from usage (ignored on PUT).")),
    stale: z
      .optional(FlagLifecycle.shape.stale)
      .check(readOnly("past its kind's expected lifetime and inactive or launched.")),
    lastEvaluatedAt: z
      .optional(FlagLifecycle.shape.lastEvaluatedAt)
      .check(readOnly("ISO time of the last counted evaluation, or null.")),
  }),
);
export type StoredFlag = z.infer<typeof StoredFlag>;

export const StoredSegment = z.intersection(Segment, Versioned);

/** A segment as a list shows it: its key lists as counts (a segment may hold 100,000 keys). */
export const SegmentSummary = z
  .object({
    key: z.string(),
    description: z.optional(z.string()),
    includedCount: z.int(),
    excludedCount: z.int(),
    /** How many rules. */
    rules: z.int().check(z.describe("How many rules.")),
    /** Keys added through `POST …/keys` (big segments only). */
    keyCount: z.optional(z.int().check(z.describe("Keys added through POST …/keys (big segments only)."))),
    version: z.int(),
  })
  .check(z.describe("A segment in the list: its key lists as counts (GET of one segment has the keys)."));
export type SegmentSummary = z.infer<typeof SegmentSummary>;

/** One audit log row, as the store keeps it. */
export const HistoryEntry = z.object({
  version: z.int(),
  /** ISO time. */
  time: z.string(),
  actor: Actor,
  /** e.g. "flag.put", "flag.delete", "flag.toggle", "segment.put", "flagd.import", "rollback", "environment.create". */
  operation: z.string(),
  /** Flag or segment key, when the change is about one. */
  target: z.optional(z.string()),
  /** What changed: before/after of the touched item, or a summary for bulk changes. */
  diff: z.unknown(),
  /** A release step that made no version (a change request reviewed, a schedule cancelled…); `version` is the one current then. */
  event: z
    .optional(z.literal(true))
    .check(
      z.describe(
        "A release step that made no version (change request reviewed, schedule cancelled, plan paused…); `version` is the one current then.",
      ),
    ),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** An audit row as `GET …/history` answers it: with the principal its actor acts for (src/admin/principals.ts). */
export const ShownHistoryEntry = z.extend(HistoryEntry, {
  principal: z.string().check(z.describe("Who the actor acts for (`bootstrap`, or its token's principal).")),
});
export type ShownHistoryEntry = z.infer<typeof ShownHistoryEntry>;

export const HistoryPage = z.object({
  entries: z.array(ShownHistoryEntry),
  next: z.optional(z.int()).check(z.describe("Pass as `before` for the next page.")),
});

export const KeyInfo = z.object({
  id: z.string(),
  kind: z.enum(KEY_KINDS),
  /** First characters of the key, enough to recognise it; never the whole key. */
  prefix: z.string(),
  createdAt: z.string(),
  revokedAt: z.optional(z.string()),
});
export type KeyInfo = z.infer<typeof KeyInfo>;

export const MintedKey = z.object({
  id: z.string(),
  kind: z.enum(KEY_KINDS),
  key: z.string().check(z.describe("Shown only in this answer; stored hashed.")),
});
export type MintedKey = z.infer<typeof MintedKey>;
