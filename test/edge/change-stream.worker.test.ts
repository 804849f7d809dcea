import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refetchEvent, RETRY_MIN_MS, RETRY_SPREAD_MS, sseStream } from "../../src/edge/change-stream";
import type { Env } from "../../src/env";
import type { EnvironmentStoreApi, StoreResult } from "../../src/core/wire/store-rpc";
import { sha256Hex } from "../../src/core/sha256";
import { edgeApp } from "../../src/edge/routes";
import { currentStreamToken, signStreamToken, streamSecret, verifyStreamToken } from "../../src/edge/stream-token";
import { eventually } from "../support/eventually";

const decoder = new TextDecoder();

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  needle: string,
  seen = { text: "" },
): Promise<string> {
  while (!seen.text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${JSON.stringify(needle)}; got ${JSON.stringify(seen.text)}`);
    seen.text += decoder.decode(value);
  }
  return seen.text;
}

describe("sseStream (one client)", () => {
  it("writes refetchEvaluation events and heartbeats; cancel tells the hub it is gone", async () => {
    const gone: unknown[] = [];
    let beats = 0;
    const { body, client } = sseStream({
      heartbeatMs: 20,
      expiresAt: Date.now() + 60_000,
      stillAllowed: async () => true,
      onHeartbeat: () => beats++,
      onGone: (c) => gone.push(c),
    });
    const reader = body.getReader();
    const seen = { text: "" };
    await readUntil(reader, ": connected", seen);
    expect(seen.text).toMatch(/^retry: \d+\n/);
    expect(client.notify(42)).toBe(true);
    expect(client.notify(43)).toBe(true);
    await readUntil(reader, "id: 43", seen);
    const events = seen.text.split("\n\n").filter((e) => e.includes("data:"));
    expect(events.map((e) => JSON.parse(e.split("data: ")[1]))).toEqual([
      { type: "refetchEvaluation", etag: "42" },
      { type: "refetchEvaluation", etag: "43" },
    ]);
    expect(seen.text).toContain(refetchEvent(42));
    await readUntil(reader, ": ping", seen);
    expect(beats).toBeGreaterThan(0);
    await reader.cancel();
    expect(gone).toEqual([client]);
    expect(client.notify(44)).toBe(false);
  });

  // The hub calls notify from the request that owns the upstream socket. Settling a promise this
  // stream awaits from there makes the runtime warn for every client whose request already ended
  // unnoticed; under SSE churn that flood stalled `wrangler dev` (503 "worker restarted
  // mid-request", usage counts lost). So notify runs none of the stream's code: it only queues,
  // and the stream's own timer writes the event.
  it("notify only queues: the event is written by the stream's own timer, never by the notifying code", async () => {
    const { body, client } = sseStream({
      heartbeatMs: 60_000,
      expiresAt: Date.now() + 120_000,
      stillAllowed: async () => true,
      onHeartbeat: () => {},
      onGone: () => {},
    });
    const reader = body.getReader();
    const seen = { text: "" };
    await readUntil(reader, ": connected", seen);
    let written = false;
    const read = reader.read().then((r) => {
      written = true;
      return r;
    });
    client.notify(7);
    // Let every microtask the notify could have started run: nothing of the stream may have run.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(written).toBe(false);
    seen.text += decoder.decode((await read).value);
    expect(seen.text).toContain(refetchEvent(7));
    await reader.cancel();
  });

  it("suggests its own reconnect delay per stream, so streams ended together do not come back together", async () => {
    const retryOf = async (random?: () => number) => {
      const { body } = sseStream({
        heartbeatMs: 1_000,
        expiresAt: Date.now() + 60_000,
        stillAllowed: async () => true,
        onHeartbeat: () => {},
        onGone: () => {},
        random,
      });
      const reader = body.getReader();
      const text = await readUntil(reader, ": connected");
      await reader.cancel();
      return Number(/^retry: (\d+)\n/.exec(text)![1]);
    };
    expect(await retryOf(() => 0)).toBe(RETRY_MIN_MS);
    expect(await retryOf(() => 0.999_999)).toBe(RETRY_MIN_MS + RETRY_SPREAD_MS - 1);
    const drawn = await Promise.all(Array.from({ length: 20 }, () => retryOf()));
    for (const ms of drawn) {
      expect(ms).toBeGreaterThanOrEqual(RETRY_MIN_MS);
      expect(ms).toBeLessThan(RETRY_MIN_MS + RETRY_SPREAD_MS);
    }
    expect(new Set(drawn).size).toBeGreaterThan(5);
  });

  it("a delayed refetch waits in the stream; one told at once goes out at once and drops a waiting one it supersedes", async () => {
    const { body, client } = sseStream({
      heartbeatMs: 50,
      expiresAt: Date.now() + 60_000,
      stillAllowed: async () => true,
      onHeartbeat: () => {},
      onGone: () => {},
    });
    const reader = body.getReader();
    const seen = { text: "" };
    await readUntil(reader, ": connected", seen);
    const asked = Date.now();
    client.notify(5, 300);
    // Counted as told already: the hub's heartbeat mending does not send it early.
    expect(client.version).toBe(5);
    await readUntil(reader, "id: 5", seen);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290);

    const second = Date.now();
    client.notify(6, 400);
    client.notify(7);
    await readUntil(reader, "id: 7", seen);
    // Out before 6 would have been due.
    expect(Date.now() - second).toBeLessThan(400);
    // Well past 6's due time (read through the heartbeats written meanwhile), 6 never went out.
    while (Date.now() - second < 1_000) {
      const chunk = { text: "" };
      await readUntil(reader, ": ping", chunk);
      seen.text += chunk.text;
    }
    expect(seen.text).not.toContain("id: 6");
    await reader.cancel();
  });

  it("ends when the hub ends it, when its key is refused, or when its token expires", async () => {
    const ends = async (o: Partial<Parameters<typeof sseStream>[0]>, act?: (c: { end(): void }) => void) => {
      const { body, client } = sseStream({
        heartbeatMs: 20,
        expiresAt: Date.now() + 60_000,
        stillAllowed: async () => true,
        onHeartbeat: () => {},
        onGone: () => {},
        ...o,
      });
      const reader = body.getReader();
      act?.(client);
      for (;;) if ((await reader.read()).done) return true;
    };
    expect(await ends({}, (c) => c.end())).toBe(true);
    expect(await ends({ stillAllowed: async () => false })).toBe(true);
    expect(await ends({ expiresAt: Date.now() + 50 })).toBe(true);
  });
});

const DIGEST = "ab".repeat(32);
const claims = (environment: string, kind: "client" | "server", expiresAt: number) => ({
  environment,
  kind,
  keyId: "key_1",
  keyDigest: DIGEST,
  expiresAt,
});

describe("stream tokens", () => {
  it("round-trips and rejects tampering, other secrets and expiry", async () => {
    const now = Date.now();
    const token = await signStreamToken("s1", claims("prod", "client", now + 60_000));
    expect(await verifyStreamToken("s1", token, now)).toEqual({
      ok: true,
      claims: claims("prod", "client", now + 60_000),
    });
    expect((await verifyStreamToken("s2", token, now)).ok).toBe(false);
    expect(await verifyStreamToken("s1", token, now + 60_001)).toEqual({ ok: false, detail: "expired stream token" });
    expect((await verifyStreamToken("s1", token.replace("prod.", "dev."), now)).ok).toBe(false);
    expect((await verifyStreamToken("s1", token.replace("key_1", "key_2"), now)).ok).toBe(false);
    expect((await verifyStreamToken("s1", token.replace(DIGEST, "cd".repeat(32)), now)).ok).toBe(false);
  });

  it("one token per key per hour, valid for at least an hour", async () => {
    const now = Date.UTC(2026, 0, 1, 10, 30);
    const { expiresAt: _, ...key } = claims("prod", "server", 0);
    const a = await currentStreamToken("s1", key, now);
    const b = await currentStreamToken("s1", key, now + 1000);
    expect(a).toBe(b);
    expect(await currentStreamToken("s1", { ...key, keyId: "key_2" }, now)).not.toBe(a);
    const check = await verifyStreamToken("s1", a, now);
    expect(check.ok && check.claims.expiresAt - now).toBeGreaterThanOrEqual(3_600_000);
  });

  it("the stream secret never falls back to the admin token", () => {
    expect(streamSecret({ ADMIN_TOKEN: "admin" } as never)).toBeUndefined();
    expect(streamSecret({ STREAM_SECRET: "s", SSE_SECRET: "old" })).toBe("s");
    expect(streamSecret({ SSE_SECRET: "old" })).toBe("old");
  });

  it("the stream route rejects an expired but correctly signed token, and one signed with the admin token", async () => {
    // vitest.config.ts binds STREAM_SECRET = "test-stream-secret" and ADMIN_TOKEN = "test-admin-token".
    const expired = await signStreamToken("test-stream-secret", claims("prod", "server", Date.now() - 1));
    const res = await SELF.fetch(`http://edge.test/ofrep/v1/stream?token=${encodeURIComponent(expired)}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errorCode: "UNAUTHORIZED", errorDetails: "expired stream token" });
    const byAdmin = await signStreamToken("test-admin-token", claims("prod", "server", Date.now() + 60_000));
    const res2 = await SELF.fetch(`http://edge.test/ofrep/v1/stream?token=${encodeURIComponent(byAdmin)}`);
    expect(await res2.json()).toEqual({ errorCode: "UNAUTHORIZED", errorDetails: "invalid stream token" });
  });
});

describe("GET /ofrep/v1/stream with the real environment store", () => {
  it("relays the current version, then each published change; the refetch sees it at once", async () => {
    const bindings = env as unknown as Env;
    // Typed through the RPC contract: the generated stub type is too deep for tsc.
    const store = bindings.ENV_STORE.get(bindings.ENV_STORE.idFromName("live")) as unknown as EnvironmentStoreApi;
    await store.create("live", "test");
    const put = await store.putFlag(
      { key: "f", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off", clientVisible: true },
      "test",
    );
    if (!put.ok) throw new Error(JSON.stringify(put));
    const mint = await store.mintKey("client", "test");
    if (!mint.ok) throw new Error(JSON.stringify(mint));
    const minted = mint.value;
    const headers = { Authorization: `Bearer ${minted.key}`, "Content-Type": "application/json" };
    const bulk = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags", {
      method: "POST",
      headers,
      body: '{"context":{}}',
    });
    const first = (await bulk.json()) as { metadata: { version: number }; eventStreams: { url: string }[] };
    const etag = bulk.headers.get("etag")!;

    const res = await SELF.fetch(first.eventStreams[0].url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const reader = res.body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, `"etag":"${first.metadata.version}"`, seen);

    const change = await store.putFlag(
      { key: "f", type: "boolean", variants: { on: true, off: false }, defaultVariant: "on", clientVisible: true },
      "test",
    );
    if (!change.ok) throw new Error(JSON.stringify(change));
    const changed = change.value;
    await readUntil(reader, `"etag":"${changed.version}"`, seen);
    // What @openfeature/ofrep-web-provider sends next: the old ETag plus ?flagConfigEtag=<event etag>.
    const refetch = await SELF.fetch(`http://edge.test/ofrep/v1/evaluate/flags?flagConfigEtag=${changed.version}`, {
      method: "POST",
      headers: { ...headers, "If-None-Match": etag },
      body: '{"context":{}}',
    });
    expect(refetch.status).toBe(200);
    const after = (await refetch.json()) as { metadata: { version: number }; flags: { value: unknown }[] };
    expect(after.metadata.version).toBe(changed.version);
    expect(after.flags[0].value).toBe(true);
    await reader.cancel();
  });
});

const bindings = () => env as unknown as Env;
const storeOf = (name: string) =>
  bindings().ENV_STORE.get(bindings().ENV_STORE.idFromName(name)) as unknown as EnvironmentStoreApi;
function ok<T>(r: StoreResult<T>): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

/** A created environment with one flag and a client key; returns the key and the stream URL its bulk answer offers. */
async function streamable(name: string) {
  const store = storeOf(name);
  await store.create(name, "test");
  ok(
    await store.putFlag(
      { key: "f", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off", clientVisible: true },
      "test",
    ),
  );
  const minted = ok(await store.mintKey("client", "test"));
  const bulk = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags", {
    method: "POST",
    headers: { Authorization: `Bearer ${minted.key}` },
    body: '{"context":{}}',
  });
  const { eventStreams } = (await bulk.json()) as { eventStreams: { url: string }[] };
  return { store, minted, url: eventStreams[0].url };
}

async function untilEnd(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  for (;;) if ((await reader.read()).done) return;
}

describe("streams end when their authorization does", () => {
  it("the token carries the key: its id and digest, never the key", async () => {
    const { minted, url } = await streamable("bound");
    const token = new URL(url).searchParams.get("token")!;
    expect(token).not.toContain(minted.key);
    const check = await verifyStreamToken("test-stream-secret", token);
    expect(check.ok && check.claims).toMatchObject({ environment: "bound", kind: "client", keyId: minted.id });
  });

  it("revoking the key ends its open streams and refuses new ones", async () => {
    const { store, minted, url } = await streamable("revoke");
    const res = await SELF.fetch(url);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await readUntil(reader, '"etag"');
    ok(await store.revokeKey(minted.id, "test"));
    await untilEnd(reader); // the heartbeat (0.2 s in tests) re-checks the key
    const again = await SELF.fetch(url);
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ errorCode: "UNAUTHORIZED", errorDetails: "revoked SDK key" });
  });

  it("deleting the environment ends its streams; after re-creating it the old token stays refused", async () => {
    const { store, url } = await streamable("recreate");
    const reader = (await SELF.fetch(url)).body!.getReader();
    await readUntil(reader, '"etag"');
    await store.destroy("test");
    await untilEnd(reader);
    await store.create("recreate", "test");
    // Deleting revoked the environment's keys; the edge sees that at its next key refresh.
    await eventually(async () => (await SELF.fetch(url)).status === 401, 5_000);
  });

  it("a stream ends when its token expires", async () => {
    const { minted } = await streamable("expiry");
    const digest = await sha256Hex(minted.key);
    const token = await signStreamToken("test-stream-secret", {
      environment: "expiry",
      kind: "client",
      keyId: minted.id,
      keyDigest: digest,
      expiresAt: Date.now() + 600,
    });
    const res = await SELF.fetch(`http://edge.test/ofrep/v1/stream?token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    const started = Date.now();
    await untilEnd(res.body!.getReader());
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a token whose key belongs elsewhere is refused even when correctly signed", async () => {
    const { minted } = await streamable("mismatch");
    const digest = await sha256Hex(minted.key);
    const token = await signStreamToken("test-stream-secret", {
      environment: "other-env",
      kind: "client",
      keyId: minted.id,
      keyDigest: digest,
      expiresAt: Date.now() + 60_000,
    });
    const res = await SELF.fetch(`http://edge.test/ofrep/v1/stream?token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(401);
  });

  it("stream connects are charged to the key's rate limit", async () => {
    const { url } = await streamable("metered");
    const limited: Env = { ...bindings(), RATE_LIMIT_PER_SECOND: "0.1", RATE_LIMIT_BURST: "2" };
    const readers = [];
    for (let i = 0; i < 2; i++) {
      const res = await edgeApp.request(url, {}, limited);
      expect(res.status).toBe(200);
      readers.push(res.body!.getReader());
    }
    const refused = await edgeApp.request(url, {}, limited);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    for (const r of readers) await r.cancel();
  });
});
