/**
 * A customer's Worker for test/sdk/workers-provider.worker.test.ts: a second Worker (vitest.config.ts
 * bundles it and runs it beside the test Worker) that binds the same KV namespace and the insights
 * queue, and evaluates through WorkersProvider and the OpenFeature server SDK as an application
 * would: one provider per isolate (here per key, for the test's several keys), created on the
 * first request. Every `fetch` this Worker makes is counted, to show that evaluating makes none.
 *
 * POST / body `{ sdkKey, flag, defaultValue, context }` → `{ details, state, version, changes,
 * initError, fetches }`.
 */
import { OpenFeature, ProviderEvents, type EvaluationContext, type JsonValue } from "@openfeature/server-sdk";
import { WorkersProvider } from "../../src/sdk/workers";

interface Env {
  FLAGS_KV: KVNamespace;
  INSIGHTS_QUEUE: Queue;
}

interface Held {
  provider: WorkersProvider;
  changes: unknown[];
  initError?: string;
}

let fetches = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  fetches++;
  return realFetch(input, init);
};

const held = new Map<string, Held>();

async function providerFor(env: Env, sdkKey: string): Promise<Held> {
  let h = held.get(sdkKey);
  if (h) return h;
  // Short intervals, as the test's edge has (0.25 s refresh): a write shows within a test.
  const provider = new WorkersProvider({
    kv: env.FLAGS_KV,
    sdkKey,
    refreshMs: 250,
    usage: { queue: env.INSIGHTS_QUEUE },
    usageIntervalMs: 200,
  });
  const created: Held = { provider, changes: [] };
  h = created;
  held.set(sdkKey, h);
  provider.events.addHandler(ProviderEvents.ConfigurationChanged, (d) => void created.changes.push(d?.flagsChanged));
  try {
    await OpenFeature.setProviderAndWait(sdkKey, provider);
  } catch (err) {
    h.initError = err instanceof Error ? err.message : String(err);
  }
  return h;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { sdkKey, flag, defaultValue, context } = (await request.json()) as {
      sdkKey: string;
      flag: string;
      defaultValue: JsonValue;
      context: EvaluationContext;
    };
    const h = await providerFor(env, sdkKey);
    const client = OpenFeature.getClient(sdkKey);
    const details =
      typeof defaultValue === "boolean"
        ? await client.getBooleanDetails(flag, defaultValue, context)
        : typeof defaultValue === "string"
          ? await client.getStringDetails(flag, defaultValue, context)
          : typeof defaultValue === "number"
            ? await client.getNumberDetails(flag, defaultValue, context)
            : await client.getObjectDetails(flag, defaultValue, context);
    ctx.waitUntil(h.provider.flushUsage());
    return Response.json({
      details,
      state: h.provider.state,
      version: h.provider.version,
      changes: h.changes,
      initError: h.initError,
      fetches,
    });
  },
};
