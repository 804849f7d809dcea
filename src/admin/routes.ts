/**
 * The admin API, mounted at /admin/v1 by src/app.ts. One Hono instance per resource; this file
 * authenticates and mounts them; each route orders its own gates (access → body → validation). Admin routes send no CORS headers: browsers reach them only from the same origin
 * (the admin page served from admin/).
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AdminEnv } from "./auth";
import { alertsApp } from "./alerts";
import { authenticate } from "./auth";
import { environmentApp, environmentsApp } from "./environments";
import { apiError } from "./errors";
import { explainApp } from "./explain";
import { flagdApp } from "./flagd";
import { changeRequestsApp } from "./change-requests";
import { flagsApp } from "./flags";
import { historyApp } from "./history";
import { insightsApp } from "./insights";
import { keysApp } from "./keys";
import { plansApp } from "./plans";
import { policyApp } from "./policy";
import { promoteApp } from "./promote";
import { schedulesApp } from "./schedules";
import { segmentsApp } from "./segments";
import { streamsApp } from "./streams";
import { tokensApp } from "./tokens";
import { webhooksApp } from "./webhooks";

export const adminApp = new Hono<AdminEnv>();

adminApp.use("*", authenticate());

// Every route under /environments/{env} declares its own access (access.ts) as its first handler.
adminApp.route("/environments", environmentsApp);
adminApp.route("/environments/:env", environmentApp);
adminApp.route("/environments/:env/flags", flagsApp);
adminApp.route("/environments/:env/flags", plansApp);
adminApp.route("/environments/:env/schedules", schedulesApp);
adminApp.route("/environments/:env/change-requests", changeRequestsApp);
adminApp.route("/environments/:env", policyApp);
adminApp.route("/environments/:env/segments", segmentsApp);
adminApp.route("/environments/:env/keys", keysApp);
adminApp.route("/environments/:env/flagd", flagdApp);
adminApp.route("/environments/:env", historyApp);
adminApp.route("/environments/:env", insightsApp);
adminApp.route("/environments/:env", explainApp);
adminApp.route("/environments/:env", promoteApp);
adminApp.route("/environments/:env/webhooks", webhooksApp);
adminApp.route("/environments/:env/alerts", alertsApp);
adminApp.route("/environments/:env", streamsApp);
adminApp.route("/tokens", tokensApp);

adminApp.onError((err, c) => {
  if (err instanceof HTTPException) {
    const status = (err.status >= 400 ? err.status : 500) as ContentfulStatusCode;
    const code =
      status === 413 ? "PAYLOAD_TOO_LARGE" : status === 400 ? "INVALID" : status === 401 ? "UNAUTHORIZED" : "INTERNAL";
    return apiError(c, status, code, err.message || "request refused");
  }
  console.error("admin error", err);
  if (storeUnavailable(err)) {
    // The object was reset, overloaded or unreachable mid-call: its transaction either committed
    // whole or not at all, so the caller may retry (with If-Match, a committed write then answers 412).
    c.header("Retry-After", "1");
    return apiError(
      c,
      503,
      "STORE_UNAVAILABLE",
      "the environment's store did not answer; nothing was half-applied, retry",
    );
  }
  return apiError(c, 500, "INTERNAL", "internal error");
});

/** A Durable Object call that failed in transit (the runtime marks those `retryable` or `overloaded`). */
function storeUnavailable(err: unknown): boolean {
  const e = err as { retryable?: unknown; overloaded?: unknown } | null;
  return !!e && typeof e === "object" && (e.retryable === true || e.overloaded === true);
}
