/**
 * Alerts of one environment (docs/api.md "Alerts"): the current state of each alert, and the
 * per-environment thresholds, window, traffic floor and cadence the Durable Object's alarm
 * evaluates them with (src/core/alerts.ts, src/store/alerts/alerts.ts). Transitions go out as
 * `alert.fired` / `alert.resolved` webhook events.
 *
 * | route | answers |
 * |---|---|
 * | `GET …/alerts` | `{alerts:[{id,kind,flag?,firing,since,value,threshold,unit,requests?,evaluatedAt}],nextEvaluationAt}` |
 * | `GET …/alerts/settings` | `{windowMinutes,minRequests,resolveRatio,evaluateEverySeconds,pausePlansOnErrorRate,alerts:{…}}` |
 * | `PUT …/alerts/settings` body: a partial of the same | the merged settings (400 names each bad field) |
 * @module
 */
import { Hono, type Context } from "hono";
import type { AlertsStoreApi } from "../core/wire/insights-rpc";
import { readAccess, writeAccess, type EnvironmentEnv } from "./access";
import { jsonBody } from "./body";
import { answer } from "./insights";
import { AlertSettingsPatch } from "./schemas";

export const alertsApp = new Hono<EnvironmentEnv>();

// The RPC stub seen through the alerts contract (the stub itself has every EnvironmentStore method).
const alerts = (c: Context) => (c.var as EnvironmentEnv["Variables"]).store as unknown as AlertsStoreApi;

alertsApp.get("/", readAccess, async (c) => answer(c, await alerts(c).listAlerts()));

alertsApp.get("/settings", readAccess, async (c) => answer(c, await alerts(c).alertSettings()));

alertsApp.put("/settings", writeAccess, jsonBody(AlertSettingsPatch), async (c) =>
  answer(c, await alerts(c).setAlertSettings(c.var.body)),
);
