/**
 * The insights RPC surface of an environment's Durable Object, as the queue consumer and the
 * admin routes see it (implemented by environment-store.ts through insights.ts and alerts.ts).
 * @module
 */
import type { AlertSettings } from "../alerts";
import type { LifecycleSettings } from "../lifecycle";
import type { UsageMessage } from "./queue-messages";
import type { StoreResult } from "./store-rpc";
import type {
  AlertInfo,
  AlertsOverview,
  EdgeMetrics,
  FlagLifecycle,
  FlagUsage,
  MinuteBucket,
  RecordOutcome,
  UsageBucket,
} from "./dto/insights";

// The answers are declared once, as zod schemas, in ./dto/insights.ts (scripts/openapi.ts documents them).
export type {
  AlertInfo,
  AlertsOverview,
  EdgeMetrics,
  FlagLifecycle,
  FlagUsage,
  MinuteBucket,
  RecordOutcome,
  UsageBucket,
};

export interface DeadLetter {
  id: string;
  at: number;
  evaluations: number;
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

export interface AlertsStoreApi {
  listAlerts(): Promise<StoreResult<AlertsOverview>>;
  alertSettings(): Promise<StoreResult<AlertSettings>>;
  /** Merges a partial update (invalid: 400 issues) and evaluates soon after. */
  setAlertSettings(patch: unknown): Promise<StoreResult<AlertSettings>>;
}
