/**
 * The approval policy: one row, the approvals a write needs (no row: 0).
 * @module
 */
import { first, run, type Sql } from "../sql";

/** Part of schema step 3 (schema.ts). */
export const POLICY_TABLES = [
  `CREATE TABLE IF NOT EXISTS policy (id INTEGER PRIMARY KEY CHECK (id = 1), approvals INTEGER NOT NULL)`,
];

export function readApprovals(sql: Sql): number {
  return first<{ approvals: number }>(sql, `SELECT approvals FROM policy WHERE id = 1`)?.approvals ?? 0;
}

export function writeApprovals(sql: Sql, approvals: number): void {
  run(
    sql,
    `INSERT INTO policy (id, approvals) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET approvals = excluded.approvals`,
    approvals,
  );
}

export function clearPolicy(sql: Sql): void {
  run(sql, `DELETE FROM policy`);
}
