/**
 * Insights answers of an environment's store: usage per flag, edge metrics, the lifecycle fields
 * of a flag and the lifecycle settings, alert states and alert settings (their defaults, patches
 * and logic: src/core/lifecycle.ts, src/core/alerts.ts).
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
const counts = <const K extends string>(...names: K[]) =>
  z.object(Object.fromEntries(names.map((n) => [n, z.int()])) as Record<K, z.ZodMiniNumberFormat>);

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
  deadLettered: counts("messages", "evaluations").check(
    z.describe("Summaries the consumer gave up on (dead-letter queue)."),
  ),
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

/** Expected lifetime per kind in days; null: permanent (never stale). */
const Lifetimes = z
  .record(z.enum(FLAG_KINDS), z.nullable(z.number()))
  .check(z.describe("Expected lifetime per kind; null: permanent."));

/** Per-environment settings (stored by the environment; every field optional, defaults in lifecycle.ts). */
export const LifecycleSettings = z.object({
  lifetimeDays: Lifetimes,
  /** The new/inactive/launched window, in days (fractions allowed: tests shorten it). */
  statusWindowDays: z.number(),
});
export type LifecycleSettings = z.infer<typeof LifecycleSettings>;

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
  state: z
    .enum(ALERT_CONDITIONS)
    .check(
      z.describe(
        "`no-data`: its input stopped arriving; `firing` and `since` stay as they were (absence never resolves an alert).",
      ),
    ),
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
  lastDataAt: z
    .nullable(z.string())
    .check(z.describe("When the last usage summary reached the store; null when none is remembered.")),
});
export type AlertsOverview = z.infer<typeof AlertsOverview>;

const threshold = (unit: string) => z.object({ enabled: z.boolean(), threshold: z.number().check(z.describe(unit)) });
/** An environment's alert settings, as stored (over the defaults) and as `GET …/alerts/settings` answers them. */
export const AlertSettings = z.object({
  /** The rate alerts look at the last this many minute buckets (the current one included). */
  windowMinutes: z.int().check(z.describe("Minute buckets the rate alerts look at (current one included).")),
  /** Requests the window must hold before a rate alert is judged (the traffic floor). */
  minRequests: z.int().check(z.describe("Traffic floor: requests the window must hold before a rate alert is judged.")),
  /** A firing alert resolves once its value is at or below threshold × this (hysteresis). */
  resolveRatio: z.number().check(z.describe("A firing alert resolves at or below threshold × this (hysteresis).")),
  /** How often the Durable Object evaluates while the environment has traffic or something firing. */
  evaluateEverySeconds: z
    .int()
    .check(z.describe("Evaluation cadence while there is traffic, a firing alert or publish lag.")),
  /** A firing `error-rate` pauses the environment's running release plans. */
  pausePlansOnErrorRate: z.boolean().check(z.describe("A firing error-rate alert pauses running release plans.")),
  /**
   * A rate alert that expects data (firing, or judged at the last evaluation) enters `no-data`
   * when no usage summary was received for this long. Summaries arrive every few seconds while
   * there is traffic (edge windows ≤ 10 s, queue batches ≤ 1 s, consumer retries from 2 s).
   */
  noDataAfterSeconds: z
    .int()
    .check(
      z.describe(
        "A rate alert that expects data (firing, or judged at the last evaluation) enters `no-data` when no usage summary arrived for this long (10–3600, default 120).",
      ),
    ),
  alerts: z.object({
    "error-rate": threshold("Percent of requests answered 5xx."),
    "stale-answers": threshold("Percent of answers served from the last known good snapshot."),
    "publish-lag": threshold("Seconds since the oldest commit KV does not have yet."),
    "flag-stale": z.object({ enabled: z.boolean() }),
  }),
});
export type AlertSettings = z.infer<typeof AlertSettings>;
