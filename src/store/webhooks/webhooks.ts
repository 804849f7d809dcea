/**
 * The webhooks half of an environment's Durable Object: subscriptions, and the outbox that turns
 * every committed version into one queued delivery per subscribed webhook.
 *
 * `record` runs inside the commit's transaction (so an event exists exactly when its version
 * does); `flush` then moves the outbox to the queue, one `sendBatch` per 100 deliveries, and is
 * the only wait the admin write pays. A failed send leaves the rows in place and asks for the DO
 * alarm (`dueAt`), and an object evicted before its flush finds them on its next alarm.
 * @module
 */
import { newSecret } from "../../core/standard-webhooks";
import {
  changeEvent,
  WebhookInput,
  wantsEvent,
  type ChangeEventInput,
  type WebhookEvent,
} from "../../core/webhook-events";
import { zodIssues } from "../../core/issues";
import type { WebhookMessage } from "../../core/wire/queue-messages";
import type { StoreResult } from "../../core/wire/store-rpc";
import { randomId } from "../secrets";
import { success, invalid, noEnvironment, notFound } from "../results";
import type { Sql } from "../sql";
import * as repo from "./webhooks-repo";
import type { WebhookInfo } from "../../core/wire/store-rpc";

/** Deliveries in the outbox longer than this are due on the alarm (a flush that never ran). */
const STUCK_MS = 30_000;
const RETRY_MS = 5_000;
/** Queues accept at most 100 messages per sendBatch. */
const SEND_BATCH = 100;
/** Per environment: each commit writes one outbox row per webhook. */
export const MAX_WEBHOOKS = 20;

export interface WebhooksHost {
  sql: Sql;
  /** The environment's name when it exists and is not deleted. */
  liveName(): string | undefined;
  queue(): Queue | undefined;
}

export class StoreWebhooks {
  private retryAt: number | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly host: WebhooksHost) {}

  create(input: unknown, actor: string): StoreResult<WebhookInfo & { secret: string }> {
    if (!this.host.liveName()) return noEnvironment;
    const parsed = WebhookInput.safeParse(input);
    if (!parsed.success) return invalid(zodIssues(parsed.error.issues));
    if (repo.countWebhooks(this.host.sql) >= MAX_WEBHOOKS) {
      return invalid([{ path: "", message: `an environment has at most ${MAX_WEBHOOKS} webhooks` }]);
    }
    const hook: repo.StoredWebhook = {
      id: randomId("wh_"),
      url: parsed.data.url,
      events: parsed.data.events,
      createdAt: new Date().toISOString(),
      secret: newSecret(),
    };
    repo.insertWebhook(this.host.sql, hook, actor);
    return success(hook);
  }

  list(): StoreResult<WebhookInfo[]> {
    if (!this.host.liveName()) return noEnvironment;
    return success(repo.listWebhooks(this.host.sql).map(({ secret: _s, ...info }) => info));
  }

  remove(id: string): StoreResult<{ deleted: true }> {
    if (!this.host.liveName()) return noEnvironment;
    return repo.deleteWebhook(this.host.sql, String(id)) ? success({ deleted: true }) : notFound(`no webhook "${id}"`);
  }

  /** What the queue consumer needs to sign and send one delivery. */
  target(id: string): StoreResult<{ url: string; secret: string }> {
    if (!this.host.liveName()) return noEnvironment;
    const hook = repo.getWebhook(this.host.sql, String(id));
    return hook ? success({ url: hook.url, secret: hook.secret }) : notFound(`no webhook "${id}"`);
  }

  /** Inside the commit transaction: one outbox row per webhook that wants this change's event. */
  recordChange(change: Omit<ChangeEventInput, "environment">): void {
    const environment = this.host.liveName();
    if (environment !== undefined) this.record(changeEvent({ ...change, environment }));
  }

  record(event: WebhookEvent): void {
    const hooks = repo.listWebhooks(this.host.sql).filter((h) => wantsEvent(h.events, event.type));
    if (hooks.length === 0) return;
    const body = JSON.stringify(event);
    const now = Date.now();
    for (const hook of hooks)
      repo.addToOutbox(this.host.sql, { id: randomId("msg_"), webhook: hook.id, body, created: now });
  }

  /** Moves the outbox to the queue; one flush at a time, so no delivery is queued twice by this object. */
  flush(): Promise<void> {
    const run = this.tail.then(() => this.flushOnce());
    this.tail = run;
    return run;
  }

  /** When the alarm should flush again, if it should. */
  dueAt(): number | undefined {
    if (this.retryAt !== undefined) return this.retryAt;
    const oldest = repo.oldestOutbox(this.host.sql);
    return oldest === undefined ? undefined : oldest + STUCK_MS;
  }

  private async flushOnce(): Promise<void> {
    const environment = this.host.liveName();
    const queue = this.host.queue();
    if (environment === undefined || !queue) return;
    for (;;) {
      const rows = repo.outbox(this.host.sql, SEND_BATCH);
      if (rows.length === 0) break;
      const messages = rows.map((r): { body: WebhookMessage } => ({
        body: { type: "webhook", id: r.id, environment, webhook: r.webhook, body: r.body, attempt: 1 },
      }));
      try {
        await queue.sendBatch(messages);
      } catch (err) {
        console.warn(`webhooks: enqueue failed, the alarm retries in ${RETRY_MS} ms:`, err);
        this.retryAt = Date.now() + RETRY_MS;
        return;
      }
      repo.removeFromOutbox(
        this.host.sql,
        rows.map((r) => r.id),
      );
    }
    this.retryAt = undefined;
  }
}
