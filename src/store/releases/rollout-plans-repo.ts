/**
 * Rollout plans, one row per flag (its latest plan). The row's JSON is the plan as shown back plus
 * the split it started from; `next_at` is when the alarm applies the next step (running only).
 * @module
 */
import type { PlanInfo } from "../../core/wire/releases-rpc";
import { all, first, run, type Sql } from "../sql";

/** Part of schema step 3 (schema.ts). */
export const PLAN_TABLES = [
  // One plan per flag (the latest); json is the PlanInfo plus the split it started from.
  // next_at: when the next step is due (ms since epoch), NULL unless running.
  `CREATE TABLE IF NOT EXISTS plans (flag TEXT PRIMARY KEY, json TEXT NOT NULL, next_at INTEGER)`,
];

/** The split of the fallthrough the plan started from (rollout-plan.ts `baseSplit`). */
export interface StoredPlan extends PlanInfo {
  base: { bucketBy?: string; variants: { variant: string; weight: number }[] };
  /** The fallthrough the plan wrote last: a different one means someone else changed it. */
  serving: unknown;
  /** Paused: how long the current step still had to hold. */
  remainingMs?: number;
}

export function publicPlan(plan: StoredPlan): PlanInfo {
  const { base: _b, serving: _s, remainingMs: _r, ...info } = plan;
  return info;
}

export function getPlan(sql: Sql, flag: string): StoredPlan | undefined {
  const row = first<{ json: string }>(sql, `SELECT json FROM plans WHERE flag = ?`, flag);
  return row && (JSON.parse(row.json) as StoredPlan);
}

export function savePlan(sql: Sql, plan: StoredPlan): void {
  const nextAt = plan.status === "running" && plan.nextAt !== undefined ? Date.parse(plan.nextAt) : null;
  run(
    sql,
    `INSERT INTO plans (flag, json, next_at) VALUES (?, ?, ?) ON CONFLICT (flag) DO UPDATE SET json = excluded.json, next_at = excluded.next_at`,
    plan.flag,
    JSON.stringify(plan),
    nextAt,
  );
}

export function duePlans(sql: Sql, now: number): StoredPlan[] {
  return all<{ json: string }>(
    sql,
    `SELECT json FROM plans WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at`,
    now,
  ).map((r) => JSON.parse(r.json) as StoredPlan);
}

export function runningPlans(sql: Sql): StoredPlan[] {
  return all<{ json: string }>(sql, `SELECT json FROM plans WHERE next_at IS NOT NULL ORDER BY flag`).map(
    (r) => JSON.parse(r.json) as StoredPlan,
  );
}

export function nextPlanAt(sql: Sql): number | undefined {
  return first<{ at: number | null }>(sql, `SELECT MIN(next_at) AS at FROM plans`)?.at ?? undefined;
}

export function clearPlans(sql: Sql): void {
  run(sql, `DELETE FROM plans`);
}
