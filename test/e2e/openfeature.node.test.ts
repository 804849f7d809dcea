/**
 * The official OpenFeature server SDK with `@openfeature/ofrep-provider`, configured with only
 * `baseUrl` and the key header, against the real server started by `npm start`.
 *
 * This file's server runs with a low per-key rate limit (2/s, burst 40) so a 429 can be provoked;
 * every test uses its own SDK key, so buckets do not interfere.
 */
import { ErrorCode, OpenFeature, type Client } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlagdEnv, ofrepClient } from "../support/openfeature";
import { eventually, sleep, startDevServer, type DevServer, SERVER_HOOK_TIMEOUT } from "../support/wrangler-dev";

const ENV = "openfeature";

const flagdDoc = {
  flags: {
    "new-checkout": {
      state: "ENABLED",
      variants: { on: true, off: false },
      defaultVariant: "off",
      targeting: { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", "off"] },
    },
    "banner-text": { state: "ENABLED", variants: { hello: "Hello", welcome: "Welcome" }, defaultVariant: "hello" },
    "max-items": {
      state: "ENABLED",
      variants: { small: 10, large: 50.5 },
      defaultVariant: "small",
      targeting: { if: [{ "==": [{ var: "plan" }, "pro"] }, "large"] },
    },
    theme: {
      state: "ENABLED",
      variants: { light: { bg: "#fff", dark: false }, dark: { bg: "#000", dark: true } },
      defaultVariant: "light",
    },
    "live-toggle": { state: "ENABLED", variants: { on: true, off: false }, defaultVariant: "off" },
  },
};

describe("OpenFeature server SDK + OFREP provider", { timeout: 60_000 }, () => {
  let server: DevServer;
  let domains = 0;

  /** A client on its own OpenFeature domain whose provider knows only baseUrl and the key header. */
  const clientWith = (key: string): Promise<Client> => ofrepClient(server, `d${++domains}`, key);

  beforeAll(async () => {
    server = await startDevServer({ env: { RATE_LIMIT_PER_SECOND: "2", RATE_LIMIT_BURST: "40" } });
    await createFlagdEnv(server, ENV, flagdDoc);
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await OpenFeature.close();
    await server?.stop();
  }, 30_000);

  it("evaluates boolean, string, number and object flags", async () => {
    const client = await clientWith(await server.mintKey(ENV, "server"));

    const match = await client.getBooleanDetails("new-checkout", false, {
      targetingKey: "u1",
      email: "ada@example.com",
    });
    expect(match).toMatchObject({ value: true, variant: "on", reason: "TARGETING_MATCH" });
    expect(match.errorCode).toBeUndefined();
    const noMatch = await client.getBooleanDetails("new-checkout", true, {
      targetingKey: "u2",
      email: "bob@elsewhere.org",
    });
    expect(noMatch).toMatchObject({ value: false, variant: "off", reason: "TARGETING_MATCH" });

    expect(await client.getStringDetails("banner-text", "code default", { targetingKey: "u1" })).toMatchObject({
      value: "Hello",
      variant: "hello",
      reason: "STATIC",
    });
    expect(await client.getNumberValue("max-items", 0, { targetingKey: "u1", plan: "pro" })).toBe(50.5);
    expect(await client.getNumberValue("max-items", 0, { targetingKey: "u1", plan: "free" })).toBe(10);
    expect(await client.getObjectValue("theme", {}, { targetingKey: "u1" })).toEqual({ bg: "#fff", dark: false });
  });

  it("answers the code default with an error code for an unknown flag and a type mismatch", async () => {
    const client = await clientWith(await server.mintKey(ENV, "server"));
    const missing = await client.getBooleanDetails("no-such-flag", true, { targetingKey: "u1" });
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: ErrorCode.FLAG_NOT_FOUND });
    const mismatch = await client.getNumberDetails("banner-text", 7, { targetingKey: "u1" });
    expect(mismatch).toMatchObject({ value: 7, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it("sees a flag change made through the admin API within 1.5 s", async () => {
    const client = await clientWith(await server.mintKey(ENV, "server"));
    expect(await client.getBooleanValue("live-toggle", true, { targetingKey: "u1" })).toBe(false);

    const current = await server.admin("GET", `/environments/${ENV}/flags/live-toggle`);
    expect(current.status).toBe(200);
    const changed = await server.admin("PUT", `/environments/${ENV}/flags/live-toggle`, {
      ...current.json,
      defaultVariant: "on",
    });
    expect(changed.status, changed.text).toBe(200);

    // Within 1.5 s, or this throws.
    await eventually(
      async () => (await client.getBooleanValue("live-toggle", false, { targetingKey: "u1" })) === true,
      1_500,
      100,
    );
  });

  it("a bad key: the SDK returns the code default with an error code", async () => {
    const client = await clientWith("not-a-real-key");
    const details = await client.getBooleanDetails("new-checkout", true, {
      targetingKey: "u1",
      email: "ada@example.com",
    });
    expect(details.value).toBe(true);
    expect(details.reason).toBe("ERROR");
    // The provider maps 401 to a non-OpenFeature error, which the SDK reports as GENERAL.
    expect(details.errorCode).toBe(ErrorCode.GENERAL);
  });

  it("429: the SDK returns the code default and honours Retry-After", async () => {
    const key = await server.mintKey(ENV, "server");
    // Drain this key's bucket with plain requests until the server refuses one.
    let limited: Response | undefined;
    for (let i = 0; i < 200 && !limited; i++) {
      const res = await server.ofrep(key, "banner-text", { targetingKey: "u1" });
      await res.arrayBuffer();
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(200);
    }
    expect(limited, "no 429 after 200 requests at 2/s, burst 40").toBeDefined();
    const retryAfter = limited!.headers.get("retry-after");
    expect(retryAfter).toMatch(/^[1-9]\d*$/);

    const client = await clientWith(key);
    const refused = await client.getStringDetails("banner-text", "code default", { targetingKey: "u1" });
    expect(refused).toMatchObject({ value: "code default", reason: "ERROR", errorCode: ErrorCode.GENERAL });
    expect(refused.errorMessage).toMatch(/rate limit/i);
    const refusedAt = Date.now();

    // Within Retry-After the provider does not even ask the server.
    const paused = await client.getStringDetails("banner-text", "code default", { targetingKey: "u1" });
    expect(paused).toMatchObject({ value: "code default", errorCode: ErrorCode.GENERAL });
    expect(paused.errorMessage).toMatch(/paused due to TooManyRequests/);

    // After Retry-After (the bucket refills at 2/s) evaluation works again.
    await sleep(Math.max(0, Number(retryAfter) * 1000 - (Date.now() - refusedAt)) + 300);
    expect(await client.getStringDetails("banner-text", "code default", { targetingKey: "u1" })).toMatchObject({
      value: "Hello",
      reason: "STATIC",
    });
  });
});
