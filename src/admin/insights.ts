/**
 * Insights of one environment (docs/insights.md): a flag's
 * hourly usage, the edge's per-minute request metrics with publish lag, and the lifecycle
 * settings behind flag `status` and `stale`.
 * Counts come from the edge through the insights queue (src/edge/insights, src/queue).
 *
 * | route | answers |
 * |---|---|
 * | `GET …/flags/{key}/usage?hours=N` (1–720, default 24) | `{flag,total,variants,lastEvaluatedAt,buckets:[{start,total,variants}]}`; a key never evaluated has zeros (a deleted flag keeps its history) |
 * | `GET …/metrics?minutes=N` (1–1440, default 60) | `{buckets:[{start,requests,status,rateLimited,stale,cache,lost,deadLettered}],publish:{version,publishedVersion,lagSeconds}}` |
 * | `GET …/lifecycle` | `{lifetimeDays:{release,…},statusWindowDays}` |
 * | `PUT …/lifecycle` body: a partial of the same (`null`: permanent) | the merged settings |
 * @module
 */
import { Hono, type Context } from "hono";
import { KEY_PATTERN } from "../core/model";
import type { StoreResult } from "../core/wire/store-rpc";
import type { InsightsStoreApi } from "../core/wire/insights-rpc";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { apiError, storeErrorResponse } from "./errors";
import { LifecyclePatch, MetricsQuery, UsageQuery } from "./schemas";
import { logError } from "../log";
import type { Decorate } from "./versioned-resource";

export const insightsApp = new Hono<EnvironmentEnv>();

// The RPC stub seen through the insights contract (the stub itself has every EnvironmentStore method).
const insights = (c: Context) => (c.var as EnvironmentEnv["Variables"]).store as unknown as InsightsStoreApi;

/**
 * The read-only lifecycle fields of GET flag answers: a list's for every flag, one flag's for
 * that flag alone. Best effort: when they cannot be computed the flag is still answered, without
 * them (and the failure is logged).
 */
export const withLifecycle: Decorate = async (c, key) => {
  let lifecycles: Record<string, object> = {};
  try {
    if (key === undefined) {
      const result = await insights(c).flagLifecycles();
      if (result.ok) lifecycles = result.value;
    } else {
      const result = await insights(c).flagLifecycle(key);
      if (result.ok) lifecycles = { [key]: result.value };
    }
  } catch (err) {
    logError("admin: flag lifecycle unavailable", err, { environment: c.var.environment }, c.req.raw);
  }
  return (item) => {
    const extra = Object.hasOwn(lifecycles, item.key) ? lifecycles[item.key] : undefined;
    return extra ? { ...item, ...extra } : item;
  };
};

/** A store answer as the route's JSON answer, or its refusal (shared with alerts.ts). */
export function answer<T>(c: Context, result: StoreResult<T>): Response {
  return result.ok ? c.json(result.value as object) : storeErrorResponse(c, result.error);
}

insightsApp.get("/flags/:key/usage", readAccess, validate("query", UsageQuery), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key))
    return apiError(c, 404, "NOT_FOUND", `flag "${key}" does not exist in environment "${c.var.environment}"`);
  return answer(c, await insights(c).flagUsage(key, c.req.valid("query").hours));
});

insightsApp.get("/metrics", readAccess, validate("query", MetricsQuery), async (c) => {
  return answer(c, await insights(c).edgeMetrics(c.req.valid("query").minutes));
});

insightsApp.get("/lifecycle", readAccess, async (c) => {
  return answer(c, await insights(c).lifecycleSettings());
});

insightsApp.put("/lifecycle", writeAccess, jsonBody(LifecyclePatch), async (c) => {
  return answer(c, await insights(c).setLifecycleSettings(c.var.body));
});
