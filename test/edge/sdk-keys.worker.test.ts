import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKey } from "../../src/core/wire/kv-layout";
import { sha256Hex } from "../../src/core/sha256";
import { failureGate, TokenBuckets } from "../../src/edge/rate-limit";
import { authenticate, authenticateDigest, presentedKey } from "../../src/edge/sdk-keys";
import type { KvReader } from "../../src/edge/snapshot-cache";
import { testKey } from "./test-keys";

const realKv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;

class CountingKv implements KvReader {
  reads = 0;
  down = false;
  /** "null": the record reads as absent for a moment; "hang": the read never settles. */
  glitch: "null" | "hang" | undefined;
  get = (async (key: string, options?: unknown) => {
    this.reads++;
    await new Promise((r) => setTimeout(r, 5));
    if (this.down) throw new Error("KV down");
    if (this.glitch === "null") return null;
    if (this.glitch === "hang") return new Promise(() => {});
    return realKv().get(key, options as { type: "json" });
  }) as KvReader["get"];
}

async function store(key: string, revoked = false) {
  await realKv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: "k1", kind: "client", environment: "e", revoked }),
  );
}
const bearer = (key: string) => new Headers({ Authorization: `Bearer ${key}` });

describe("SDK key authentication", () => {
  it("reads Bearer or X-API-Key", () => {
    expect(presentedKey(new Headers({ Authorization: "Bearer abc" }))).toBe("abc");
    expect(presentedKey(new Headers({ "X-API-Key": " xyz " }))).toBe("xyz");
    expect(presentedKey(new Headers({ Authorization: "Basic abc" }))).toBeNull();
    expect(presentedKey(new Headers())).toBeNull();
  });

  it("remembers answers for ttlMs, then sees a revocation", async () => {
    const key = testKey("client");
    await store(key);
    const kv = new CountingKv();
    const t = 1_000_000;
    expect(await authenticate(bearer(key), kv, { ttlMs: 250, now: t })).toMatchObject({
      ok: true,
      key: { environment: "e", kind: "client" },
      digest: await sha256Hex(key),
    });
    await store(key, true);
    expect((await authenticate(bearer(key), kv, { ttlMs: 250, now: t + 100 })).ok).toBe(true);
    expect(kv.reads).toBe(1);
    expect(await authenticate(bearer(key), kv, { ttlMs: 250, now: t + 300 })).toEqual({
      ok: false,
      status: 401,
      detail: "revoked SDK key",
    });
  });

  it("concurrent lookups of one key share a KV read; unknown keys are remembered too", async () => {
    const key = testKey();
    const kv = new CountingKv();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => authenticate(bearer(key), kv, { ttlMs: 1000, now: 5_000 })),
    );
    expect(results.every((r) => !r.ok && r.status === 401)).toBe(true);
    expect(kv.reads).toBe(1);
    await authenticate(bearer(key), kv, { ttlMs: 1000, now: 5_500 });
    expect(kv.reads).toBe(1);
  });

  it("KV outage: a remembered key keeps working, an unverifiable one is 503 not 401", async () => {
    const key = testKey();
    await store(key);
    const kv = new CountingKv();
    expect((await authenticate(bearer(key), kv, { ttlMs: 100, now: 10_000 })).ok).toBe(true);
    kv.down = true;
    expect((await authenticate(bearer(key), kv, { ttlMs: 100, now: 20_000 })).ok).toBe(true);
    expect(await authenticate(bearer(testKey()), kv, { ttlMs: 100, now: 20_000 })).toMatchObject({
      ok: false,
      status: 503,
    });
  });

  it("keys without the minted format are refused with no digest and no KV read", async () => {
    const kv = new CountingKv();
    for (const key of [
      "k_123",
      "efs_short",
      `efs_${"A".repeat(44)}`,
      `efx_${"A".repeat(43)}`,
      `efs_${"A".repeat(42)}!`,
      "x".repeat(600),
    ]) {
      expect(await authenticate(bearer(key), kv)).toEqual({ ok: false, status: 401, detail: "unknown SDK key" });
    }
    expect(kv.reads).toBe(0);
  });

  it("a flood of made-up keys never evicts a real key from memory", async () => {
    const real = testKey();
    await store(real);
    const kv = new CountingKv();
    const t = 50_000_000;
    expect((await authenticate(bearer(real), kv, { ttlMs: 60_000, now: t })).ok).toBe(true);
    // More unknown keys than either memory holds, with no failure budget in the way.
    for (let i = 0; i < 10_050; i++)
      await authenticate(
        bearer(testKey()),
        { get: (async () => null) as unknown as KvReader["get"] },
        { ttlMs: 60_000, now: t + 1 },
      );
    const before = kv.reads;
    expect((await authenticate(bearer(real), kv, { ttlMs: 60_000, now: t + 2 })).ok).toBe(true);
    expect(kv.reads).toBe(before); // still answered from memory
  });

  it("an address that keeps failing gets 429 before any more lookups; known keys behind it still pass", async () => {
    const real = testKey();
    await store(real);
    const kv = new CountingKv();
    const t = 90_000_000;
    const buckets = new TokenBuckets(1, 50);
    const failures = { spend: () => buckets.take("1.2.3.4", t), refund: () => buckets.refund("1.2.3.4") };
    expect((await authenticate(bearer(real), kv, { ttlMs: 60_000, now: t, failures })).ok).toBe(true);
    // Concurrent, as a flood would be: the budget is spent before each lookup, not after.
    const answers = await Promise.all(
      Array.from({ length: 5000 }, () => authenticate(bearer(testKey()), kv, { ttlMs: 60_000, now: t, failures })),
    );
    // 5,000 made-up keys cost 50 lookups (the burst) + the real key's one, not 5,000.
    expect(kv.reads).toBe(51);
    expect(answers.filter((a) => !a.ok && a.status === 401)).toHaveLength(50);
    expect(answers[4999]).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 1 });
    expect((await authenticate(bearer(real), kv, { ttlMs: 60_000, now: t, failures })).ok).toBe(true);
  });

  it("failureGate spends per address and refunds", () => {
    const buckets = new TokenBuckets(0, 2);
    const a = failureGate("a", buckets);
    expect(a.spend()).toEqual({ ok: true });
    expect(a.spend()).toEqual({ ok: true });
    expect(a.spend().ok).toBe(false);
    a.refund();
    expect(a.spend()).toEqual({ ok: true });
    expect(failureGate("b", buckets).spend()).toEqual({ ok: true });
  });

  it("looks a key up by its digest (stream re-checks) through the same memory", async () => {
    const key = testKey("client");
    await store(key);
    const digest = await sha256Hex(key);
    const kv = new CountingKv();
    expect(await authenticateDigest(digest, kv, { ttlMs: 1000, now: 1 })).toMatchObject({
      ok: true,
      key: { id: "k1" },
      digest,
    });
    expect((await authenticateDigest(digest, kv, { ttlMs: 1000, now: 2 })).ok).toBe(true);
    expect(kv.reads).toBe(1);
    await store(key, true);
    expect(await authenticateDigest(digest, kv, { ttlMs: 1000, now: 2000 })).toEqual({
      ok: false,
      status: 401,
      detail: "revoked SDK key",
    });
  });

  it("a key seen valid is never refused because its record read as absent for a moment", async () => {
    const key = testKey("server");
    await store(key);
    const kv = new CountingKv();
    expect((await authenticate(bearer(key), kv, { ttlMs: 250, now: 7_000_000 })).ok).toBe(true);
    kv.glitch = "null";
    for (const dt of [300, 600, 900]) {
      expect(await authenticate(bearer(key), kv, { ttlMs: 250, now: 7_000_000 + dt })).toMatchObject({
        ok: true,
        key: { id: "k1" },
      });
    }
    // One read per ttl through the glitch, not one per request.
    expect(kv.reads).toBe(4);
    kv.glitch = undefined;
    await store(key, true);
    expect(await authenticate(bearer(key), kv, { ttlMs: 250, now: 7_002_000 })).toMatchObject({
      ok: false,
      status: 401,
      detail: "revoked SDK key",
    });
  });

  it("a lookup that hangs ends at its deadline: 503 for an unverified key, the remembered answer for a known one", async () => {
    const fresh = testKey("client");
    await store(fresh);
    const kv = new CountingKv();
    kv.glitch = "hang";
    expect(await authenticate(bearer(fresh), kv, { ttlMs: 250, now: 8_000_000, kvTimeoutMs: 30 })).toMatchObject({
      ok: false,
      status: 503,
    });
    kv.glitch = undefined;
    expect((await authenticate(bearer(fresh), kv, { ttlMs: 250, now: 8_000_000 + 10_000 })).ok).toBe(true);
    kv.glitch = "hang";
    expect((await authenticate(bearer(fresh), kv, { ttlMs: 250, now: 8_000_000 + 20_000, kvTimeoutMs: 30 })).ok).toBe(
      true,
    );
  });

  // The runtime cancels a request that awaits a promise another request started (hung, 500).
  it("a request never waits on another request's lookup: a remembered key answers meanwhile", async () => {
    const key = testKey("server");
    await store(key);
    const kv = new CountingKv();
    expect((await authenticate(bearer(key), kv, { ttlMs: 250, now: 9_000_000 })).ok).toBe(true);
    const hung = new CountingKv();
    hung.glitch = "hang";
    // Request A refreshes the key; its read never settles (its client went away).
    void authenticate(bearer(key), hung, { ttlMs: 250, now: 9_000_500, kvTimeoutMs: 600_000 });
    await new Promise((r) => setTimeout(r, 20));
    const other = new CountingKv();
    expect((await authenticate(bearer(key), other, { ttlMs: 250, now: 9_000_501 })).ok).toBe(true);
    expect(other.reads).toBe(0);
    // Long after A's deadline its mark is overdue: the next request looks the key up itself.
    expect((await authenticate(bearer(key), other, { ttlMs: 250, now: 9_100_000 })).ok).toBe(true);
    expect(other.reads).toBe(1);
  });
});
