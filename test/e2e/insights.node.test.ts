/**
 * Insights end to end: N evaluations through the official OpenFeature server SDK and
 * `@openfeature/ofrep-provider` against `npm start` → the usage route reports exactly N, split by
 * variant as the SDK saw them, within 20 s (API.md), and nothing is counted twice.
 */
import { OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlagdEnv, ofrepClient } from "../support/openfeature";
import { eventually, sleep, startDevServer, type DevServer, SERVER_HOOK_TIMEOUT } from "../support/wrangler-dev";

const ENV = "insights";
const N = 60;

describe("insights: OFREP evaluations through the OpenFeature SDK are counted exactly", { timeout: 60_000 }, () => {
  let server: DevServer;

  beforeAll(async () => {
    server = await startDevServer();
    await createFlagdEnv(server, ENV, {
      flags: {
        colour: {
          state: "ENABLED",
          variants: { red: "red", green: "green", blue: "blue" },
          defaultVariant: "red",
          targeting: {
            fractional: [
              ["red", 34],
              ["green", 33],
              ["blue", 33],
            ],
          },
        },
      },
    });
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await OpenFeature.close();
    await server?.stop();
  }, 30_000);

  it(`${N} evaluations → usage reports ${N}, split by variant, within 20 s`, async () => {
    const key = await server.mintKey(ENV, "server");
    const client = await ofrepClient(server, "insights", key);
    const seen: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const d = await client.getStringDetails("colour", "code default", { targetingKey: `user-${i}` });
      expect(d.errorCode).toBeUndefined();
      seen[d.variant!] = (seen[d.variant!] ?? 0) + 1;
    }
    expect(Object.keys(seen).length).toBeGreaterThan(1);
    const evaluatedAt = Date.now();

    const usage = await eventually(
      async () => {
        const u = (await server.admin("GET", `/environments/${ENV}/flags/colour/usage?hours=1`)).json;
        return u.total >= N && u;
      },
      20_000,
      250,
    );
    expect(usage.total, `counted within ${Date.now() - evaluatedAt} ms`).toBe(N);
    expect(usage.variants).toEqual(seen);
    expect(usage.buckets.at(-1)).toMatchObject({ total: N, variants: seen });

    // Nothing arrives twice later (redelivery, re-sends).
    await sleep(2_500);
    const later = (await server.admin("GET", `/environments/${ENV}/flags/colour/usage?hours=1`)).json;
    expect(later.total).toBe(N);

    const flag = (await server.admin("GET", `/environments/${ENV}/flags/colour`)).json;
    expect(flag).toMatchObject({ kind: "release", status: "active", stale: false });
    const metrics = (await server.admin("GET", `/environments/${ENV}/metrics?minutes=5`)).json;
    const requests = metrics.buckets.reduce((s: number, b: any) => s + b.status["2xx"], 0);
    expect(requests).toBeGreaterThanOrEqual(N);
  });
});
