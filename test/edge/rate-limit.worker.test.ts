import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKey } from "../../src/core/wire/kv-layout";
import { edgeApp } from "../../src/edge/routes";
import { TokenBuckets } from "../../src/edge/rate-limit";
import { sha256Hex } from "../../src/core/sha256";
import type { Env } from "../../src/env";
import { testKey } from "./test-keys";

describe("TokenBuckets", () => {
  it("allows the burst, then refuses with Retry-After in whole seconds (≥ 1)", () => {
    const b = new TokenBuckets(0.5, 2);
    const t = 1_000_000;
    expect(b.take("k", t)).toEqual({ ok: true });
    expect(b.take("k", t)).toEqual({ ok: true });
    // One token takes 2 s at 0.5/s.
    expect(b.take("k", t)).toEqual({ ok: false, retryAfterSeconds: 2 });
    expect(b.take("other", t)).toEqual({ ok: true });
    expect(b.take("k", t + 2000)).toEqual({ ok: true });
    const fast = new TokenBuckets(100, 1);
    fast.take("k", t);
    expect(fast.take("k", t)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });
});

describe("429 on the OFREP routes", () => {
  it("answers 429 with Retry-After and a JSON body once a key's burst is spent", async () => {
    const base = env as unknown as Env;
    // Same Worker routes, lower limits: bindings passed per request.
    const limited: Env = { ...base, RATE_LIMIT_PER_SECOND: "0.2", RATE_LIMIT_BURST: "3" };
    const key = testKey();
    await base.FLAGS_KV.put(
      kvKey.sdkKey(await sha256Hex(key)),
      JSON.stringify({ id: "rl-1", kind: "server", environment: "rl", revoked: false }),
    );
    const call = () =>
      edgeApp.request(
        "http://edge.test/ofrep/v1/evaluate/flags",
        {
          method: "POST",
          headers: { "X-API-Key": key, "Content-Type": "application/json" },
          body: '{"context":{}}',
        },
        limited,
      );
    for (let i = 0; i < 3; i++) expect((await call()).status).not.toBe(429);
    const res = await call();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.headers.get("access-control-expose-headers")).toContain("Retry-After");
    expect(await res.json()).toMatchObject({ errorCode: "RATE_LIMITED" });
    // Another key is not affected.
    const other = testKey();
    await base.FLAGS_KV.put(
      kvKey.sdkKey(await sha256Hex(other)),
      JSON.stringify({ id: "rl-2", kind: "server", environment: "rl", revoked: false }),
    );
    const res2 = await edgeApp.request(
      "http://edge.test/ofrep/v1/evaluate/flags",
      { method: "POST", headers: { "X-API-Key": other }, body: "{}" },
      limited,
    );
    expect(res2.status).toBe(200);
  });
});
