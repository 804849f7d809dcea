/** Usage as the edge reports it, for the admin tests (imported by *.worker.test.ts; not a test file itself). */
import { createMessageBatch } from "cloudflare:test";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { INSIGHTS_QUEUE, type UsageMessage } from "../../src/core/wire/queue-messages";
import { E } from "../store/helpers";

let seq = 0;

/** One evaluation of `flag` serving `variant` at `at`, delivered through the real queue consumer. */
export async function evaluated(env: string, flag: string, variant: string, at = Date.now()): Promise<void> {
  const body: UsageMessage = {
    type: "usage",
    id: `usage-${Date.now()}-${++seq}`,
    environment: env,
    at,
    evaluations: [[flag, variant, "STATIC", "server", 1]],
    requests: [],
    rateLimited: 0,
    stale: 0,
    cache: { memory: 0, cache: 0, miss: 0 },
    lost: { evaluations: 0, requests: 0 },
  };
  const batch = createMessageBatch(INSIGHTS_QUEUE, [{ id: body.id, timestamp: new Date(), attempts: 1, body }]);
  await worker.queue(batch as MessageBatch<unknown>, E as Env);
}
