/**
 * Webhook subscriptions of one environment and the outbox of deliveries not yet on the queue.
 * @module
 */
import type { WebhookInfo } from "../../core/wire/store-rpc";
import { all, first, run, type Sql } from "../sql";

/** Schema step 5 (schema.ts). */
export const WEBHOOK_TABLES = [
  // The secret is kept as issued, not hashed: the store must sign every delivery with it (HMAC
  // needs the key itself), unlike SDK keys and admin tokens.
  `CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
     created TEXT NOT NULL, created_by TEXT NOT NULL)`,
  // Deliveries written in the commit's own transaction and removed once on the queue, so a
  // committed version's event survives a failed enqueue or an evicted object. created: ms since epoch.
  `CREATE TABLE IF NOT EXISTS webhook_outbox (id TEXT PRIMARY KEY, webhook TEXT NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL)`,
];

export interface StoredWebhook extends WebhookInfo {
  secret: string;
}

export type OutboxRow = {
  id: string;
  webhook: string;
  body: string;
  created: number;
};

type WebhookRow = { id: string; url: string; events: string; secret: string; created: string };

const toWebhook = (r: WebhookRow): StoredWebhook => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  createdAt: r.created,
  secret: r.secret,
});

export function insertWebhook(sql: Sql, hook: StoredWebhook, actor: string): void {
  run(
    sql,
    `INSERT INTO webhooks (id, url, events, secret, created, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
    hook.id,
    hook.url,
    JSON.stringify(hook.events),
    hook.secret,
    hook.createdAt,
    actor,
  );
}

export function listWebhooks(sql: Sql): StoredWebhook[] {
  return all<WebhookRow>(sql, `SELECT id, url, events, secret, created FROM webhooks ORDER BY created, id`).map(
    toWebhook,
  );
}

export function getWebhook(sql: Sql, id: string): StoredWebhook | undefined {
  const row = first<WebhookRow>(sql, `SELECT id, url, events, secret, created FROM webhooks WHERE id = ?`, id);
  return row && toWebhook(row);
}

/** Removes the subscription and its deliveries not yet queued; answers whether it existed. */
export function deleteWebhook(sql: Sql, id: string): boolean {
  const existed = first(sql, `SELECT 1 AS x FROM webhooks WHERE id = ?`, id) !== undefined;
  run(sql, `DELETE FROM webhooks WHERE id = ?`, id);
  run(sql, `DELETE FROM webhook_outbox WHERE webhook = ?`, id);
  return existed;
}

export function clearWebhooks(sql: Sql): void {
  run(sql, `DELETE FROM webhooks`);
  run(sql, `DELETE FROM webhook_outbox`);
}

export function countWebhooks(sql: Sql): number {
  return first<{ n: number }>(sql, `SELECT COUNT(*) AS n FROM webhooks`)!.n;
}

export function addToOutbox(sql: Sql, row: OutboxRow): void {
  run(
    sql,
    `INSERT INTO webhook_outbox (id, webhook, body, created) VALUES (?, ?, ?, ?)`,
    row.id,
    row.webhook,
    row.body,
    row.created,
  );
}

/** The oldest `limit` deliveries waiting for the queue, oldest first. */
export function outbox(sql: Sql, limit: number): OutboxRow[] {
  return all<OutboxRow>(
    sql,
    `SELECT id, webhook, body, created FROM webhook_outbox ORDER BY created, id LIMIT ?`,
    limit,
  );
}

export function oldestOutbox(sql: Sql): number | undefined {
  return first<{ t: number | null }>(sql, `SELECT MIN(created) AS t FROM webhook_outbox`)?.t ?? undefined;
}

export function removeFromOutbox(sql: Sql, ids: string[]): void {
  for (const id of ids) run(sql, `DELETE FROM webhook_outbox WHERE id = ?`, id);
}
