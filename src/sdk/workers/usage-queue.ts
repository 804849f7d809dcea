/**
 * Usage from a Worker, straight onto the insights queue: a queue producer binding to
 * `edgeflags-insights` (core/wire/queue-messages.ts) takes one `usage` message per batch, the same
 * message `POST /sdk/v1/usage` would queue (core/wire/usage-batch.ts `sdkUsageMessage`), so the store
 * counts it once however often it is sent.
 * @module
 */
import type { KeyRecord } from "../../core/wire/kv-layout";
import { sdkUsageMessage, type UsageBatch } from "../../core/wire/usage-batch";
import type { SendOutcome } from "../usage-reporter";

/** What the SDK needs of a queue producer binding (`env.INSIGHTS_QUEUE` satisfies it). */
export interface QueueBinding {
  send(body: unknown, options?: { contentType?: "json" }): Promise<unknown>;
}

/** Sends a batch as the key `key()` names (none yet: retried later, when the key has been read). */
export function queueUsageSender(
  queue: QueueBinding,
  key: () => KeyRecord | undefined,
): (batch: UsageBatch) => Promise<SendOutcome> {
  return async function sendUsage(batch) {
    const record = key();
    if (!record) return "retry";
    try {
      await queue.send(sdkUsageMessage(batch, record), { contentType: "json" });
      return "sent";
    } catch {
      return "retry";
    }
  };
}
