/**
 * Delivering `webhook` queue messages: read the webhook's URL and secret from the environment's
 * Durable Object, re-check the URL rule (core/webhook-target.ts: a row stored before the rule, or
 * edited, is refused here rather than fetched), sign (Standard Webhooks, core/standard-webhooks.ts)
 * with this attempt's timestamp, POST, and on a non-2xx answer (a 3xx included: redirects are not
 * followed), a network error or no answer within DELIVERY_TIMEOUT_MS, queue the same message
 * again (same `webhook-id`) with the next delay of RETRY_DELAYS_SECONDS. Re-sending a new message
 * rather than `message.retry()` lets the schedule run past the queue's `max_retries` (which stays
 * small for usage messages) and its 12-hour delay cap per step; `message.retry()` is only the
 * fallback when that re-send itself fails.
 *
 * Isolation: each message is acked or retried on its own, and its POST runs in an invocation of
 * its own (the WebhookSender entrypoint, webhook-sender.ts). In workerd a request body whose
 * connection fails (TLS handshake, DNS, reset, timeout) also fails the invocation that sent it,
 * even when the fetch's rejection is caught — and a failed queue invocation makes the queue
 * redeliver the whole batch, acked neighbours included. Contained in its own invocation, such a
 * failure is one rejected call here, handled like any other failed attempt.
 *
 * Order: none is promised. Deliveries of one webhook run concurrently within a batch, and a failed
 * one is retried later while newer events go on being delivered, so a receiver may see version 7
 * before a retried version 6: it orders by `data.version` and de-duplicates by `webhook-id`.
 * @module
 */
import { exports } from "cloudflare:workers";
import type { QueueBindings as Env } from "./bindings";
import { logError } from "../log";
import { webhookHeaders } from "../core/standard-webhooks";
import { withTimeout } from "../core/timeout";
import { webhookUrlProblem } from "../core/webhook-target";
import type { EnvironmentStoreApi } from "../core/wire/store-rpc";
import type { WebhookMessage } from "../core/wire/queue-messages";

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
export type WebhookTarget = { url: string; secret: string };
export type AttemptOutcome = { ok: true; status: number } | { ok: false; reason: string };
/** One attempt of one delivery; may reject (the consumer treats that as a failed attempt). */
export type Send = (m: WebhookMessage, target: WebhookTarget) => Promise<AttemptOutcome>;

export interface DeliveryItem {
  message: Pick<Message<unknown>, "ack" | "retry">;
  body: WebhookMessage;
}

/** One signed POST in the calling invocation; never throws. */
export async function attemptDelivery(
  m: WebhookMessage,
  target: WebhookTarget,
  fetcher: Fetcher,
  now = Date.now(),
): Promise<AttemptOutcome> {
  try {
    const headers = await webhookHeaders(target.secret, m.id, Math.floor(now / 1000), m.body);
    if (!headers) return { ok: false, reason: "the webhook's secret is malformed" };
    const res = await fetcher(
      new Request(target.url, {
        method: "POST",
        // Not followed: a redirect could lead anywhere, a private address included (the URL rule holds for the URL we were given).
        redirect: "manual",
        headers: { ...headers, "content-type": "application/json", "user-agent": "edgeflags-webhooks" },
        body: m.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      }),
    );
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return {
      ok: false,
      reason:
        res.status >= 300 && res.status < 400
          ? `answered ${res.status} (redirects are not followed)`
          : `answered ${res.status}`,
    };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

type SenderBinding = { attempt: Send };

/**
 * The attempt in an invocation of its own (see the module note). The entrypoint is a loopback
 * binding of the script's own `WebhookSender` export; every script with this consumer exports it.
 * The outer timeout only guards the call itself: the POST has its own.
 */
export const sendIsolated: Send = (m, target) => {
  const sender = (exports as unknown as { WebhookSender?: SenderBinding }).WebhookSender;
  if (!sender) return Promise.reject(new Error("this script does not export WebhookSender"));
  return withTimeout(sender.attempt(m, target), DELIVERY_TIMEOUT_MS + 5_000, "the webhook sender did not answer");
};

export async function deliverWebhooks(items: DeliveryItem[], env: Env, send: Send = sendIsolated): Promise<void> {
  await Promise.all(items.map((item) => deliverOne(item, env, send)));
}

const context = (m: WebhookMessage) => ({
  environment: m.environment,
  webhook: m.webhook,
  id: m.id,
  attempt: m.attempt,
});

/** Acks or retries this one message, whatever fails: nothing here may throw into the batch. */
async function deliverOne({ message, body: m }: DeliveryItem, env: Env, send: Send): Promise<void> {
  let target;
  try {
    target = await (env.ENV_STORE.getByName(m.environment) as unknown as EnvironmentStoreApi).webhookTarget(m.webhook);
  } catch (err) {
    logError("webhooks: reading the webhook failed, will retry", err, context(m));
    return message.retry({ delaySeconds: FALLBACK_DELAY_SECONDS });
  }
  // Deleted since (or its environment): nothing to deliver to.
  if (!target.ok) return message.ack();
  // Stored before the rule, or edited: failed for good, never fetched.
  const problem = webhookUrlProblem(target.value.url);
  if (problem !== undefined) {
    logError("webhooks: delivery refused, the webhook's URL is not allowed", `url ${problem}`, context(m));
    return message.ack();
  }
  const outcome = await send(m, target.value).catch(
    (err: unknown): AttemptOutcome => ({
      ok: false,
      reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    }),
  );
  if (outcome.ok) return message.ack();
  const delay = RETRY_DELAYS_SECONDS[m.attempt - 1];
  if (delay === undefined) {
    logError("webhooks: delivery abandoned after the last retry", outcome.reason, context(m));
    return message.ack();
  }
  try {
    if (!env.INSIGHTS_QUEUE) throw new Error("no INSIGHTS_QUEUE binding");
    await env.INSIGHTS_QUEUE.send({ ...m, attempt: m.attempt + 1 } satisfies WebhookMessage, { delaySeconds: delay });
    message.ack();
  } catch (err) {
    logError("webhooks: re-queueing a failed delivery failed", err, context(m));
    message.retry({ delaySeconds: FALLBACK_DELAY_SECONDS });
  }
}
