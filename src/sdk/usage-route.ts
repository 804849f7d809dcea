/**
 * Sends one usage batch through `POST /sdk/v1/usage` (edge/insights/sdk-usage.ts) and says what
 * became of it: "sent" (202), "retry" (no answer, 408, 429, 5xx: the same batch goes again later),
 * "drop" (any other refusal, e.g. a revoked key or a server without the route: retrying cannot help).
 * @module
 */
import type { UsageBatch } from "../core/wire/usage-batch";
import type { SendOutcome } from "./usage-reporter";

export interface UsageRouteOptions {
  baseUrl: string;
  sdkKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

export function usageRouteSender(o: UsageRouteOptions): (batch: UsageBatch) => Promise<SendOutcome> {
  const url = `${o.baseUrl.replace(/\/+$/, "")}/sdk/v1/usage`;
  return async function sendUsage(batch) {
    try {
      const res = await o.fetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${o.sdkKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return "sent";
      return res.status === 408 || res.status === 429 || res.status >= 500 ? "retry" : "drop";
    } catch {
      return "retry";
    }
  };
}
