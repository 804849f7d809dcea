/**
 * `edgeflags/workers` in the Workers runtime: a second Worker (test/sdk/customer-worker.ts, bound
 * here as CUSTOMER) that binds the same KV namespace as edgeflags evaluates through WorkersProvider
 * and the OpenFeature server SDK. Environments, flags and keys are made through the admin API, so
 * the provider reads what the store published and the key records the store wrote.
 */
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, boolFlag, createEnv } from "../admin/support";
import { eventually } from "../support/eventually";

const customer = () => (env as unknown as { CUSTOMER: Fetcher }).CUSTOMER;

interface Answer {
  details: {
    value: unknown;
    variant?: string;
    reason?: string;
    errorCode?: string;
    flagMetadata: Record<string, unknown>;
  };
  state: string;
  version?: number;
  changes: unknown[];
  initError?: string;
  fetches: number;
}

async function evaluate(
  sdkKey: string,
  flag: string,
  defaultValue: unknown,
  context: Record<string, unknown> = {},
): Promise<Answer> {
  const res = await customer().fetch("http://customer/", {
    method: "POST",
    body: JSON.stringify({ sdkKey, flag, defaultValue, context }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function ofrep(sdkKey: string, flag: string, context: Record<string, unknown>) {
  const res = await SELF.fetch(`http://edge.test/ofrep/v1/evaluate/flags/${flag}`, {
    method: "POST",
    headers: { authorization: `Bearer ${sdkKey}`, "content-type": "application/json" },
    body: JSON.stringify({ context }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const staff = {
  rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } }],
};

async function environment(prefix: string) {
  const name = await createEnv(prefix);
  expect((await api("PUT", `/environments/${name}/flags/banner`, { body: boolFlag("banner", staff) })).status).toBe(
    201,
  );
  const minted = await api("POST", `/environments/${name}/keys`, { body: { kind: "server" } });
  return { name, key: minted.body.key as string, keyId: minted.body.id as string };
}

describe("WorkersProvider in a second Worker on the same KV namespace", () => {
  it("answers as the OFREP route does, with no HTTP call", async () => {
    const { key } = await environment("wp-answers");
    for (const context of [
      { targetingKey: "a", email: "a@example.com" },
      { targetingKey: "b", email: "b@other.org" },
      {},
    ]) {
      const got = await evaluate(key, "banner", false, context);
      const want = await ofrep(key, "banner", context);
      expect(want.status).toBe(200);
      expect(got.details).toMatchObject({
        value: want.body.value,
        variant: want.body.variant,
        reason: want.body.reason,
      });
      expect(got.state).toBe("READY");
    }
    const missing = await evaluate(key, "nope", true);
    expect(missing.details).toMatchObject({ value: true, errorCode: "FLAG_NOT_FOUND" });
    expect((await ofrep(key, "nope", {})).status).toBe(404);
    expect(missing.fetches).toBe(0);
  });

  it("serves an admin write once the refresh interval has passed, announcing the changed flag", async () => {
    const { name, key } = await environment("wp-write");
    const before = await evaluate(key, "banner", false, { email: "a@example.com" });
    expect(before.details.value).toBe(true);
    expect((await api("PUT", `/environments/${name}/flags/banner`, { body: boolFlag("banner") })).status).toBe(200);
    const after = await eventually(
      async () => {
        const a = await evaluate(key, "banner", true, { email: "a@example.com" });
        return a.details.value === false && a;
      },
      10_000,
      50,
    );
    expect(after.version).toBeGreaterThan(before.version!);
    expect(after.changes).toEqual([["banner"]]);
    expect(after.fetches).toBe(0);
  });

  it("refuses client keys and unknown keys; a revoked key answers defaults with ERROR", async () => {
    const { name, key, keyId } = await environment("wp-keys");
    const client = (await api("POST", `/environments/${name}/keys`, { body: { kind: "client" } })).body.key as string;
    const refused = await evaluate(client, "banner", true, { email: "a@example.com" });
    expect(refused.initError).toMatch(/client SDK key/);
    expect(refused.details).toMatchObject({ value: true, reason: "ERROR", errorCode: "GENERAL" });
    expect((await evaluate("efs_" + "x".repeat(43), "banner", true)).initError).toMatch(/unknown SDK key/);

    expect((await evaluate(key, "banner", false, { email: "a@example.com" })).details.value).toBe(true);
    expect((await api("DELETE", `/environments/${name}/keys/${keyId}`)).status).toBe(200);
    const revoked = await eventually(
      async () => {
        const a = await evaluate(key, "banner", false, { email: "a@example.com" });
        return a.details.errorCode === "GENERAL" && a;
      },
      10_000,
      50,
    );
    expect(revoked.details.value).toBe(false);
    expect(revoked.state).toBe("ERROR");
  });

  it("its evaluations count in the flag's usage, through the insights queue", async () => {
    const { name, key } = await environment("wp-usage");
    for (const email of ["a@example.com", "b@example.com", "c@other.org"])
      await evaluate(key, "banner", false, { email });
    await evaluate(key, "banner", "x"); // a type mismatch answers no value: not counted
    // Each evaluation hands `flushUsage` to waitUntil; a later request sends what an earlier window held.
    const usage = await eventually(
      async () => {
        await evaluate(key, "nope", false);
        const r = await api("GET", `/environments/${name}/flags/banner/usage?hours=1`);
        return r.body.total >= 3 && r;
      },
      15_000,
      250,
    );
    expect(usage.body).toMatchObject({ total: 3, variants: { on: 2, off: 1 } });
  });
});
