import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKey } from "../../src/core/kv-contract";
import { sha256Hex } from "../../src/core/sha256";
import { authenticate, presentedKey, type KvReader } from "../../src/edge/sdk-keys";

const realKv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;

class CountingKv implements KvReader {
  reads = 0;
  down = false;
  get = (async (key: string, options?: unknown) => {
    this.reads++;
    await new Promise((r) => setTimeout(r, 5));
    if (this.down) throw new Error("KV down");
    return realKv().get(key, options as { type: "json" });
  }) as KvReader["get"];
}

async function store(key: string, revoked = false) {
  await realKv().put(kvKey.sdkKey(await sha256Hex(key)), JSON.stringify({ id: "k1", kind: "client", environment: "e", revoked }));
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
    const key = `k_${crypto.randomUUID()}`;
    await store(key);
    const kv = new CountingKv();
    const t = 1_000_000;
    expect(await authenticate(bearer(key), kv, 250, t)).toMatchObject({ ok: true, key: { environment: "e", kind: "client" } });
    await store(key, true);
    expect((await authenticate(bearer(key), kv, 250, t + 100)).ok).toBe(true);
    expect(kv.reads).toBe(1);
    expect(await authenticate(bearer(key), kv, 250, t + 300)).toEqual({ ok: false, status: 401, detail: "revoked SDK key" });
  });

  it("concurrent lookups of one key share a KV read; unknown keys are remembered too", async () => {
    const key = `k_${crypto.randomUUID()}`;
    const kv = new CountingKv();
    const results = await Promise.all(Array.from({ length: 20 }, () => authenticate(bearer(key), kv, 1000, 5_000)));
    expect(results.every((r) => !r.ok && r.status === 401)).toBe(true);
    expect(kv.reads).toBe(1);
    await authenticate(bearer(key), kv, 1000, 5_500);
    expect(kv.reads).toBe(1);
  });

  it("KV outage: a remembered key keeps working, an unverifiable one is 503 not 401", async () => {
    const key = `k_${crypto.randomUUID()}`;
    await store(key);
    const kv = new CountingKv();
    expect((await authenticate(bearer(key), kv, 100, 10_000)).ok).toBe(true);
    kv.down = true;
    expect((await authenticate(bearer(key), kv, 100, 20_000)).ok).toBe(true);
    expect(await authenticate(bearer(`k_${crypto.randomUUID()}`), kv, 100, 20_000)).toMatchObject({ ok: false, status: 503 });
  });
});
