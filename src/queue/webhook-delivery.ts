/**
 * Delivering `webhook` queue messages: read the webhook's URL and secret from the environment's
 * Durable Object, sign (Standard Webhooks, core/standard-webhooks.ts) with this attempt's
 * timestamp, POST, and on a non-2xx answer, a network error or no answer within
 * DELIVERY_TIMEOUT_MS, queue the same message again (same `webhook-id`) with the next delay of
 * RETRY_DELAYS_SECONDS. Re-sending a new message rather than `message.retry()` lets the schedule
 * run past the queue's `max_retries` (which stays small for usage messages) and its 12-hour delay
 * cap per step; `message.retry()` is only the fallback when that re-send itself fails.
 *
 * Order: none is promised. Deliveries of one webhook run concurrently within a batch, and a failed
 * one is retried later while newer events go on being delivered, so a receiver may see version 7
 * before a retried version 6: it orders by `data.version` and de-duplicates by `webhook-id`.
 * @module
 */
import type { Env } from "../env";
import { logError } from "../log";
import { webhookHeaders } from "../core/standard-webhooks";
import type { EnvironmentStoreApi } from "../store/api";
import type { WebhookMessage } from "./messages";

/**
 * Delay before attempt n+1 after attempt n failed (the Standard Webhooks recommendation: 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): 8 attempts over 27.6 hours, the first retry 5 s after the
 * failure (plus the queue's batch timeout, 1 s).
 */
export const RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Backoff of a message whose re-send or store read failed (the queue's own retry). */
const FALLBACK_DELAY_SECONDS = 30;

export type Fetcher = (request: Request) => Promise<Response>;

export interface DeliveryItem {
  message: Pick<Message<unknown>, "ack" | "retry">;
  body: WebhookMessage;
}

export type AttemptOutcome = { ok: true; status: number } | { ok: false; reason: string };

/** One signed POST; never throws. */
export async function attemptDelivery(m: WebhookMessage, target: { url: string; secret: string }, fetcher: Fetcher, now = Date.now()): Promise<AttemptOutcome> {
  const headers = await webhookHeaders(target.secret, m.id, Math.floor(now / 1000), m.body);
  if (!headers) return { ok: false, reason: "the webhook's secret is malformed" };
  try {
    const res = await fetcher(new Request(target.url, {
      method: "POST",
      // Redirects are not followed: the URL rule (https:, or http: to loopback) must hold for where it lands.
      redirect: "manual",
      headers: { ...headers, "content-type": "application/json", "user-agent": "edgeflags-webhooks" },
      body: m.body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    }));
    await res.body?.cancel().catch(() => {});
    return res.status >= 200 && res.status < 300 ? { ok: true, status: res.status } : { ok: false, reason: `answered ${res.status}` };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

export async function deliverWebhooks(items: DeliveryItem[], env: Env, fetcher: Fetcher = (r) => fetch(r)): Promise<void> {
  await Promise.all(items.map((item) => deliverOne(item, env, fetcher)));
}

async function deliverOne({ message, body: m }: DeliveryItem, env: Env, fetcher: Fetcher): Promise<void> {
  let target;
  try {
    target = await (env.ENV_STORE.getByName(m.environment) as unknown as EnvironmentStoreApi).webhookTarget(m.webhook);
  } catch (err) {
    logError("webhooks: reading the webhook failed, will retry", err, { environment: m.environment, webhook: m.webhook, id: m.id });
    return message.retry({ delaySeconds: FALLBACK_DELAY_SECONDS });
  }
  // Deleted since (or its environment): nothing to deliver to.
  if (!target.ok) return message.ack();
  const outcome = await attemptDelivery(m, target.value, fetcher);
  if (outcome.ok) return message.ack();
  const delay = RETRY_DELAYS_SECONDS[m.attempt - 1];
  if (delay === undefined) {
    logError("webhooks: delivery abandoned after the last retry", outcome.reason, { environment: m.environment, webhook: m.webhook, id: m.id, attempts: m.attempt });
    return message.ack();
  }
  try {
    if (!env.INSIGHTS_QUEUE) throw new Error("no INSIGHTS_QUEUE binding");
    await env.INSIGHTS_QUEUE.send({ ...m, attempt: m.attempt + 1 } satisfies WebhookMessage, { delaySeconds: delay });
    message.ack();
  } catch (err) {
    logError("webhooks: re-queueing a failed delivery failed", err, { environment: m.environment, webhook: m.webhook, id: m.id });
    message.retry({ delaySeconds: FALLBACK_DELAY_SECONDS });
  }
}
