/**
 * The Worker's `queue()` handler: the insights queue and its dead-letter queue (wrangler.toml).
 *
 * Main queue: messages are checked (core/wire/queue-messages.ts), grouped by type and handed to that type's
 * handler in {@link HANDLERS}; a type is one row there (`webhook`: deliveries, webhook-delivery.ts). `usage` messages are grouped by environment and applied by that environment's Durable
 * Object in one RPC, which skips ids it has applied before, so a redelivered message, or a batch
 * retried after a partial failure, is counted once. A failed RPC retries that environment's
 * messages with backoff; after `max_retries` the queue moves them to the dead-letter queue.
 * A message that does not parse can never succeed: it is acked and logged, not retried.
 *
 * Dead-letter queue: its messages are counted per environment (`deadLettered` in the metrics
 * route) so operators see what never made it, then acked.
 * @module
 */
import type { QueueBindings as Env } from "./bindings";
import type { InsightsStoreApi } from "../core/wire/insights-rpc";
import { logError } from "../log";
import { deliverWebhooks } from "./webhook-delivery";
import { INSIGHTS_DLQ, parseQueueMessage, type QueueMessage, type UsageMessage } from "../core/wire/queue-messages";

type Item<T> = { message: Message<unknown>; body: T };
type Handlers = {
  [K in QueueMessage["type"]]: (items: Item<Extract<QueueMessage, { type: K }>>[], env: Env) => Promise<void>;
};

/** Backoff of a failed store call, by delivery attempt (seconds). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts));
}

const store = (env: Env, environment: string) => env.ENV_STORE.getByName(environment) as unknown as InsightsStoreApi;

function byEnvironment<T extends { environment: string }>(items: Item<T>[]): Map<string, Item<T>[]> {
  const groups = new Map<string, Item<T>[]>();
  for (const item of items) {
    const group = groups.get(item.body.environment);
    if (group) group.push(item);
    else groups.set(item.body.environment, [item]);
  }
  return groups;
}

const HANDLERS: Handlers = {
  async usage(items, env) {
    await Promise.all(
      [...byEnvironment(items)].map(async ([environment, group]) => {
        try {
          await store(env, environment).recordUsage(group.map((i) => i.body));
          for (const i of group) i.message.ack();
        } catch (err) {
          logError("queue: recording usage failed, will retry", err, { environment, messages: group.length });
          for (const i of group) i.message.retry({ delaySeconds: retryDelaySeconds(i.message.attempts) });
        }
      }),
    );
  },
  webhook: (items, env) => deliverWebhooks(items, env),
};

function parse(batch: MessageBatch<unknown>): Map<QueueMessage["type"], Item<QueueMessage>[]> {
  const byType = new Map<QueueMessage["type"], Item<QueueMessage>[]>();
  for (const message of batch.messages) {
    const parsed = parseQueueMessage(message.body);
    if (!parsed.ok) {
      logError("queue: malformed message dropped", parsed.error, { queue: batch.queue, id: message.id });
      message.ack();
      continue;
    }
    const list = byType.get(parsed.value.type);
    if (list) list.push({ message, body: parsed.value });
    else byType.set(parsed.value.type, [{ message, body: parsed.value }]);
  }
  return byType;
}

export async function consumeQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const byType = parse(batch);
  if (batch.queue === INSIGHTS_DLQ) return countDeadLetters(byType, env);
  await Promise.all(
    [...byType].map(([type, items]) =>
      (HANDLERS[type] as (i: Item<QueueMessage>[], e: Env) => Promise<void>)(items, env),
    ),
  );
}

/** Every dead-lettered message is counted once per environment and minute, then acked. */
async function countDeadLetters(byType: Map<QueueMessage["type"], Item<QueueMessage>[]>, env: Env): Promise<void> {
  // A webhook delivery lands here only when its own re-queue kept failing: logged, then acked.
  for (const i of byType.get("webhook") ?? []) {
    logError("queue: webhook delivery dead-lettered", "dead letter", {
      environment: i.body.environment,
      id: i.body.id,
    });
    i.message.ack();
  }
  const usage = (byType.get("usage") ?? []) as Item<UsageMessage>[];
  await Promise.all(
    [...byEnvironment(usage)].map(async ([environment, group]) => {
      try {
        await store(env, environment).recordDeadLetters(
          group.map((i) => ({
            id: i.body.id,
            at: i.body.at,
            evaluations: i.body.evaluations.reduce((s, row) => s + row[4], 0),
          })),
        );
        for (const i of group) i.message.ack();
      } catch (err) {
        logError("queue: counting dead letters failed", err, { environment, messages: group.length });
        for (const i of group) i.message.retry({ delaySeconds: retryDelaySeconds(i.message.attempts) });
      }
    }),
  );
}
