/**
 * The insights RPC surface of an environment's Durable Object, as the queue consumer and the
 * admin routes see it (implemented by environment-store.ts through insights.ts and alerts.ts).
 * @module
 */
import type { AlertCondition, AlertKind, AlertSettings } from "../alerts";
import type { FlagKind, FlagStatus, LifecycleSettings } from "../lifecycle";
import type { UsageMessage } from "./queue-messages";
import type { StoreResult } from "./store-rpc";

export interface UsageBucket {
  start: string;
  total: number;
  variants: Record<string, number>;
}

export interface FlagUsage {
  flag: string;
  total: number;
  variants: Record<string, number>;
  lastEvaluatedAt: string | null;
  buckets: UsageBucket[];
}

export interface MinuteBucket {
  start: string;
  requests: number;
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  rateLimited: number;
  stale: number;
  cache: { memory: number; cache: number; miss: number };
  /** Counts the edge could not send (dropped after failed sends), reported when it could. */
  lost: { evaluations: number; requests: number };
  /** Summaries that reached the dead-letter queue (the consumer failed on them repeatedly). */
  deadLettered: { messages: number; evaluations: number };
}

export interface RecordOutcome {
  /** Messages counted now. */
  applied: number;
  /** Messages already counted before (redelivery): skipped. */
  duplicates: number;
  /** Messages for an environment that no longer exists: dropped. */
  ignored: number;
}

export interface DeadLetter {
  id: string;
  at: number;
  evaluations: number;
}

export interface EdgeMetrics {
  buckets: MinuteBucket[];
  /** How far KV lags the store: the newest version, the one the KV pointer names, and since when it lags. */
  publish: { version: number; publishedVersion: number; lagSeconds: number };
}

/** The read-only lifecycle fields a flag carries on GET. */
export interface FlagLifecycle {
  kind: FlagKind;
  status: FlagStatus;
  stale: boolean;
  lastEvaluatedAt: string | null;
}

/** Every read answers no_environment for an environment never created (or deleted), like the other store calls. */
export interface InsightsStoreApi {
  /** Messages for a deleted environment are `ignored` (acked by the consumer, never retried). */
  recordUsage(messages: UsageMessage[]): Promise<RecordOutcome>;
  recordDeadLetters(letters: DeadLetter[]): Promise<RecordOutcome>;
  flagUsage(flag: string, hours: number): Promise<StoreResult<FlagUsage>>;
  edgeMetrics(minutes: number): Promise<StoreResult<EdgeMetrics>>;
  /** Lifecycle fields of every current flag, by key. */
  flagLifecycles(): Promise<StoreResult<Record<string, FlagLifecycle>>>;
  /** The same fields for one flag, computed from its rows alone; not_found when it does not exist. */
  flagLifecycle(key: string): Promise<StoreResult<FlagLifecycle>>;
  lifecycleSettings(): Promise<StoreResult<LifecycleSettings>>;
  /** Merges a partial `{lifetimeDays?, statusWindowDays?}` into the stored settings (invalid: 400 issues). */
  setLifecycleSettings(patch: unknown): Promise<StoreResult<LifecycleSettings>>;
}

/** One alert's state as `GET …/alerts` lists it (core/alerts.ts `AlertState`, times as ISO). */
export interface AlertInfo {
  id: string;
  kind: AlertKind;
  flag?: string;
  /** `no-data`: the alert's input stopped arriving; `firing` and `since` stay as they were. */
  state: AlertCondition;
  firing: boolean;
  since: string;
  /** Only in `no-data`: since when. */
  noDataSince?: string;
  value: number | null;
  threshold: number;
  unit: "percent" | "seconds" | "boolean";
  requests?: number;
  evaluatedAt: string;
}

export interface AlertsOverview {
  alerts: AlertInfo[];
  /** When the alarm evaluates next; null while there is nothing to watch. */
  nextEvaluationAt: string | null;
  /** When the last usage summary reached the store (null: none remembered). */
  lastDataAt: string | null;
}

export interface AlertsStoreApi {
  listAlerts(): Promise<StoreResult<AlertsOverview>>;
  alertSettings(): Promise<StoreResult<AlertSettings>>;
  /** Merges a partial update (invalid: 400 issues) and evaluates soon after. */
  setAlertSettings(patch: unknown): Promise<StoreResult<AlertSettings>>;
}
