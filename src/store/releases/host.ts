/**
 * What the store lends each part of releasing (schedules, rollout plans, the approval policy,
 * change requests): its SQL and transactions, the one write path, and the alarm.
 * @module
 */
import type { Writer } from "../environment/change";
import type { Sql } from "../sql";

export interface ReleaseHost extends Writer {
  readonly sql: Sql;
  transaction(fn: () => void): void;
  /** Sets the DO alarm to the earliest need of its users (environment/alarm-scheduler.ts). */
  armAlarm(): Promise<void>;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
