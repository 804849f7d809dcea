import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentDoc } from "../../src/core/model";
import { sha256Hex } from "../../src/core/sha256";
import { kvKey } from "../../src/core/wire/kv-layout";
import { AUTH_FAILURE_BURST, AUTH_FAILURES_PER_SECOND } from "../../src/edge/rate-limit";
import { testKey } from "./test-keys";
import { putSnapshot } from "../support/kv-snapshot";

const kv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;
const BASE = "http://edge.test";
// A flag whose answer differs between a missing/null `n` and a number.
const DOC = {
  segments: [],
  flags: [
    {
      key: "big",
      type: "boolean",
      enabled: true,
      clientVisible: true,
      variants: { yes: true, no: false },
      defaultVariant: "no",
      rules: [{ when: { attribute: "n", op: "gt", values: [10] }, serve: { variant: "yes" } }],
    },
  ],
} as unknown as EnvironmentDoc;

async function storeKey(environment: string): Promise<string> {
  const key = testKey();
  await kv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: `h-${environment}`, kind: "server", environment, revoked: false }),
  );
  return key;
}

function post(path: string, key: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(BASE + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", ...headers },
    body,
  });
}

describe("hostile contexts on the OFREP routes", () => {
  let key: string;
  beforeAll(async () => {
    await putSnapshot(kv(), "hostile", 1, DOC);
    key = await storeKey("hostile");
  });

  it("1e309 is refused and cannot poison the cached answer or ETag for null", async () => {
    const nullFirst = await post("/ofrep/v1/evaluate/flags", key, '{"context":{"n":null}}');
    expect(nullFirst.status).toBe(200);
    const tag = nullFirst.headers.get("etag")!;
    const inf = await post("/ofrep/v1/evaluate/flags", key, '{"context":{"n":1e309}}');
    expect(inf.status).toBe(400);
    expect(await inf.json()).toMatchObject({ errorCode: "INVALID_CONTEXT" });
    const single = await post("/ofrep/v1/evaluate/flags/big", key, '{"context":{"n":1e309}}');
    expect(single.status).toBe(400);
    const nullAgain = await post("/ofrep/v1/evaluate/flags", key, '{"context":{"n":null}}');
    expect(nullAgain.headers.get("etag")).toBe(tag);
    expect(((await nullAgain.json()) as { flags: { value: unknown }[] }).flags[0].value).toBe(false);
  });

  it("deep nesting answers 400 INVALID_CONTEXT on single and bulk, never 500", async () => {
    const deep = `{"context":{"a":${'{"b":'.repeat(5_000)}1${"}".repeat(5_000)}}}`;
    for (const path of ["/ofrep/v1/evaluate/flags/big", "/ofrep/v1/evaluate/flags"]) {
      const res = await post(path, key, deep);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errorCode: "INVALID_CONTEXT" });
    }
  });

  it("a chunked body past 64 KiB answers 400 PARSE_ERROR", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > 8 * 1024 * 1024) return c.close();
        sent += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const res = await SELF.fetch(BASE + "/ofrep/v1/evaluate/flags/big", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: "PARSE_ERROR" });
  });
});

describe("made-up keys from one address", () => {
  it("cost at most the burst of lookups, then 429 with Retry-After; other addresses and real keys are unaffected", async () => {
    const real = await storeKey("hostile");
    const flood = { "cf-connecting-ip": "203.0.113.9" };
    const answers: Response[] = [];
    const started = Date.now();
    // Concurrent batches: the flood must outrun the bucket's refill even on a loaded machine.
    for (let sent = 0; sent < AUTH_FAILURE_BURST + 100; sent += 50) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, () => post("/ofrep/v1/evaluate/flags/big", testKey(), "{}", flood)),
        )),
      );
    }
    const statuses = answers.map((r) => r.status);
    // (Fewer 401s than the burst only when KV itself failed under load: those answer 503 and are refunded.)
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    // The burst, plus what the bucket refilled while the flood ran.
    const refilled = Math.ceil(((Date.now() - started) / 1000) * AUTH_FAILURES_PER_SECOND);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(AUTH_FAILURE_BURST + refilled);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ errorCode: "RATE_LIMITED" });
    // Another address still gets a plain 401; a real key is still served from the flooding address
    // (its first lookup happens before the flood here, as a busy real key's would).
    expect(
      (await post("/ofrep/v1/evaluate/flags/big", testKey(), "{}", { "cf-connecting-ip": "198.51.100.1" })).status,
    ).toBe(401);
    expect(
      (await post("/ofrep/v1/evaluate/flags/big", real, "{}", { "cf-connecting-ip": "198.51.100.2" })).status,
    ).toBe(200);
    expect((await post("/ofrep/v1/evaluate/flags/big", real, "{}", flood)).status).toBe(200);
  });
});
