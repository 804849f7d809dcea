/**
 * Insights of one environment (API.md "Insights"): a flag's hourly usage, the edge's per-minute
 * request metrics with publish lag, and the lifecycle settings behind flag `status` and `stale`.
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
import type { InsightsError, InsightsStoreApi } from "../store/insights-api";
import type { EnvironmentEnv } from "./access";
import { jsonBody, validate } from "./body";
import { apiError, invalid } from "./errors";
import { LifecyclePatch, MetricsQuery, UsageQuery } from "./schemas";

export const insightsApp = new Hono<EnvironmentEnv>();

const insights = (c: Context<EnvironmentEnv>) => c.env.ENV_STORE.getByName(c.var.environment) as unknown as InsightsStoreApi;

function isInsightsError(value: unknown): value is InsightsError {
  return typeof value === "object" && value !== null && "error" in value && typeof (value as { error: unknown }).error === "string";
}

function refusal(c: Context<EnvironmentEnv>, err: InsightsError): Response {
  return err.error === "invalid" ? invalid(c, err.issues, "lifecycle settings") : apiError(c, 404, "NOT_FOUND", err.message);
}

insightsApp.get("/flags/:key/usage", validate("query", UsageQuery), async (c) => {
  const key = c.req.param("key");
  if (!KEY_PATTERN.test(key)) return apiError(c, 404, "NOT_FOUND", `flag "${key}" does not exist in environment "${c.var.environment}"`);
  const usage = await insights(c).flagUsage(key, c.req.valid("query").hours ?? 24);
  return isInsightsError(usage) ? refusal(c, usage) : c.json(usage);
});

insightsApp.get("/metrics", validate("query", MetricsQuery), async (c) => {
  const metrics = await insights(c).edgeMetrics(c.req.valid("query").minutes ?? 60);
  return isInsightsError(metrics) ? refusal(c, metrics) : c.json(metrics);
});

insightsApp.get("/lifecycle", async (c) => {
  const settings = await insights(c).lifecycleSettings();
  return isInsightsError(settings) ? refusal(c, settings) : c.json(settings);
});

insightsApp.put("/lifecycle", jsonBody(), validate("json", LifecyclePatch), async (c) => {
  const settings = await insights(c).setLifecycleSettings(c.req.valid("json"));
  return isInsightsError(settings) ? refusal(c, settings) : c.json(settings);
});
