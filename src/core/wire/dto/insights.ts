/**
 * Insights answers of an environment's store: usage per flag, edge metrics, the lifecycle fields
 * of a flag, alert states. (Their settings live beside their patches and defaults, in
 * src/core/lifecycle.ts and src/core/alerts.ts.)
 * @module
 */
import * as z from "zod/mini";
import { ALERT_CONDITIONS, ALERT_KINDS, UNITS } from "../../alerts";
import { FLAG_KINDS, FLAG_STATUSES } from "../../lifecycle";

const Variants = z.record(z.string(), z.int());

export const UsageBucket = z.object({ start: z.string(), total: z.int(), variants: Variants });
export type UsageBucket = z.infer<typeof UsageBucket>;

export const FlagUsage = z.object({
  flag: z.string(),
  total: z.int(),
  variants: Variants,
  lastEvaluatedAt: z.nullable(z.string()),
  buckets: z.array(UsageBucket).check(z.describe("Hourly, oldest first, every hour present.")),
});
export type FlagUsage = z.infer<typeof FlagUsage>;

/** Integer counters by name. */
const counts = <const K extends string>(...names: K[]) => z.object(Object.fromEntries(names.map((n) => [n, z.int()])) as Record<K, z.ZodMiniNumberFormat>);

export const MinuteBucket = z.object({
  start: z.string(),
  requests: z.int(),
  status: counts("2xx", "3xx", "4xx", "5xx"),
  rateLimited: z.int(),
  stale: z.int().check(z.describe("Answers served from the last known good snapshot (KV failing).")),
  cache: counts("memory", "cache", "miss"),
  /** Counts the edge could not send (dropped after failed sends), reported when it could. */
  lost: counts("evaluations", "requests").check(z.describe("Counts the edge dropped after repeated send failures.")),
  /** Summaries that reached the dead-letter queue (the consumer failed on them repeatedly). */
  deadLettered: counts("messages", "evaluations").check(z.describe("Summaries the consumer gave up on (dead-letter queue).")),
});
export type MinuteBucket = z.infer<typeof MinuteBucket>;

export const EdgeMetrics = z.object({
  buckets: z.array(MinuteBucket).check(z.describe("Per minute, oldest first, every minute present.")),
  /** How far KV lags the store: the newest version, the one the KV pointer names, and since when it lags. */
  publish: z.object({ version: z.int(), publishedVersion: z.int(), lagSeconds: z.number() }),
});
export type EdgeMetrics = z.infer<typeof EdgeMetrics>;

/** The read-only lifecycle fields a flag carries on GET. */
export const FlagLifecycle = z.object({
  kind: z.enum(FLAG_KINDS),
  status: z.enum(FLAG_STATUSES),
  stale: z.boolean(),
  lastEvaluatedAt: z.nullable(z.string()),
});
export type FlagLifecycle = z.infer<typeof FlagLifecycle>;

/** What the store did with a batch of usage messages (or dead letters). */
export const RecordOutcome = z.object({
  /** Messages counted now. */
  applied: z.int(),
  /** Messages already counted before (redelivery): skipped. */
  duplicates: z.int(),
  /** Messages for an environment that no longer exists: dropped. */
  ignored: z.int(),
});
export type RecordOutcome = z.infer<typeof RecordOutcome>;

/** One alert's state as `GET …/alerts` lists it (core/alerts.ts `AlertState`, times as ISO). */
export const AlertInfo = z.object({
  id: z.string().check(z.describe("The kind, or `flag-stale:<key>`.")),
  kind: z.enum(ALERT_KINDS),
  flag: z.optional(z.string()),
  /** `no-data`: the alert's input stopped arriving; `firing` and `since` stay as they were. */
  state: z.enum(ALERT_CONDITIONS).check(z.describe("`no-data`: its input stopped arriving; `firing` and `since` stay as they were (absence never resolves an alert).")),
  firing: z.boolean(),
  since: z.string().check(z.describe("When it entered its current state.")),
  /** Only in `no-data`: since when. */
  noDataSince: z.optional(z.string()).check(z.describe("Only in `no-data`: since when.")),
  value: z.nullable(z.number()).check(z.describe("Last value measured; null under the traffic floor.")),
  threshold: z.number(),
  unit: z.enum(UNITS),
  requests: z.optional(z.int()),
  evaluatedAt: z.string(),
});
export type AlertInfo = z.infer<typeof AlertInfo>;

export const AlertsOverview = z.object({
  alerts: z.array(AlertInfo),
  /** When the alarm evaluates next; null while there is nothing to watch. */
  nextEvaluationAt: z.nullable(z.string()).check(z.describe("Null while there is nothing to watch.")),
  /** When the last usage summary reached the store (null: none remembered). */
  lastDataAt: z.nullable(z.string()).check(z.describe("When the last usage summary reached the store; null when none is remembered.")),
});
export type AlertsOverview = z.infer<typeof AlertsOverview>;
