/**
 * The insights RPC surface of an environment's Durable Object, as the queue consumer and the
 * admin routes see it (implemented by environment-store.ts through insights.ts).
 * @module
 */
import type { FlagKind, FlagStatus, LifecycleSettings } from "../core/lifecycle";
import type { UsageMessage } from "../queue/messages";
import type { FlagUsage, MinuteBucket } from "./usage-repo";

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

export type InsightsError = { error: "not_found"; message: string } | { error: "invalid"; issues: { path: string; message: string }[] };

export interface InsightsStoreApi {
  recordUsage(messages: UsageMessage[]): Promise<RecordOutcome>;
  recordDeadLetters(letters: DeadLetter[]): Promise<RecordOutcome>;
  flagUsage(flag: string, hours: number): Promise<FlagUsage | InsightsError>;
  edgeMetrics(minutes: number): Promise<EdgeMetrics | InsightsError>;
  /** Lifecycle fields of every current flag, by key. */
  flagLifecycles(): Promise<Record<string, FlagLifecycle> | InsightsError>;
  lifecycleSettings(): Promise<LifecycleSettings | InsightsError>;
  /** Merges a partial `{lifetimeDays?, statusWindowDays?}` into the stored settings. */
  setLifecycleSettings(patch: unknown): Promise<LifecycleSettings | InsightsError>;
}
