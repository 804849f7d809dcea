/**
 * The Registry's tables: environment names and scoped admin tokens (SHA-256 hex only).
 * @module
 */
import type { AdminTokenInfo } from "../../core/wire/store-rpc";
import { all, first, run, type Sql } from "../sql";

type TokenRow = {
  id: string;
  role: AdminTokenInfo["role"];
  environments: string | null;
  hash: string;
  prefix: string;
  created: string;
  created_by: string;
  revoked: string | null;
  revoked_by: string | null;
  owner: string | null;
  principal: string | null;
};

const toInfo = (r: TokenRow): AdminTokenInfo => ({
  id: r.id,
  role: r.role,
  ...(r.environments === null ? {} : { environments: JSON.parse(r.environments) as string[] }),
  prefix: r.prefix,
  createdAt: r.created,
  createdBy: r.created_by,
  ...(r.owner === null ? {} : { owner: r.owner }),
  // Every row has one since schema 2; the minter's is the conservative reading otherwise.
  principal: r.principal ?? r.created_by,
  ...(r.revoked === null ? {} : { revokedAt: r.revoked }),
});

/** True when the name was not listed yet. */
export function addEnvironment(sql: Sql, name: string, time: string): boolean {
  const known = first<{ name: string }>(sql, `SELECT name FROM environments WHERE name = ?`, name);
  if (!known) run(sql, `INSERT INTO environments (name, created) VALUES (?, ?)`, name, time);
  return !known;
}

export function removeEnvironment(sql: Sql, name: string): void {
  run(sql, `DELETE FROM environments WHERE name = ?`, name);
}

export function listEnvironments(sql: Sql): string[] {
  return all<{ name: string }>(sql, `SELECT name FROM environments ORDER BY name`).map((r) => r.name);
}

export function insertToken(
  sql: Sql,
  t: {
    id: string;
    role: AdminTokenInfo["role"];
    environments?: string[];
    hash: string;
    prefix: string;
    created: string;
    actor: string;
    owner?: string;
    principal: string;
  },
): void {
  run(
    sql,
    `INSERT INTO admin_tokens (id, role, environments, hash, prefix, created, created_by, owner, principal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    t.id,
    t.role,
    t.environments === undefined ? null : JSON.stringify(t.environments),
    t.hash,
    t.prefix,
    t.created,
    t.actor,
    t.owner ?? null,
    t.principal,
  );
}

/** Who `actor` acts for: a token's principal; any other actor ("bootstrap") is its own. */
export function principalOf(sql: Sql, actor: string): string {
  const row = first<{ principal: string | null; created_by: string }>(
    sql,
    `SELECT principal, created_by FROM admin_tokens WHERE id = ?`,
    actor,
  );
  return row ? (row.principal ?? row.created_by) : actor;
}

export function listTokens(sql: Sql): AdminTokenInfo[] {
  return all<TokenRow>(sql, `SELECT * FROM admin_tokens ORDER BY created, id`).map(toInfo);
}

/** True when the token existed and was not yet revoked. */
export function revokeToken(sql: Sql, id: string, time: string, actor: string): boolean {
  const row = first<{ revoked: string | null }>(sql, `SELECT revoked FROM admin_tokens WHERE id = ?`, id);
  if (!row || row.revoked !== null) return false;
  run(sql, `UPDATE admin_tokens SET revoked = ?, revoked_by = ? WHERE id = ?`, time, actor, id);
  return true;
}

export function findToken(sql: Sql, hash: string): AdminTokenInfo | null {
  const row = first<TokenRow>(sql, `SELECT * FROM admin_tokens WHERE hash = ? AND revoked IS NULL`, hash);
  return row ? toInfo(row) : null;
}
