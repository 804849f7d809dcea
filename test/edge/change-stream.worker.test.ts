import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { refetchEvent, relayVersions } from "../../src/edge/change-stream";
import type { Env } from "../../src/env";
import type { EnvironmentStoreApi } from "../../src/store/api";
import { currentStreamToken, signStreamToken, verifyStreamToken } from "../../src/edge/stream-token";

const decoder = new TextDecoder();

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, needle: string, seen = { text: "" }): Promise<string> {
  while (!seen.text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${JSON.stringify(needle)}; got ${JSON.stringify(seen.text)}`);
    seen.text += decoder.decode(value);
  }
  return seen.text;
}

describe("relayVersions (fake DO socket)", () => {
  it("turns version messages into OFREP refetchEvaluation events and notes the version", async () => {
    const pair = new WebSocketPair();
    const [doSide, workerSide] = [pair[0], pair[1]];
    doSide.accept();
    const noted: number[] = [];
    const stream = relayVersions({ socket: workerSide, onVersion: (v) => noted.push(v), heartbeatMs: 20 });
    const reader = stream.getReader();
    const seen = { text: "" };
    await readUntil(reader, ": connected", seen);
    expect(seen.text).toMatch(/^retry: \d+\n/);
    doSide.send(JSON.stringify({ type: "version", version: 42 }));
    doSide.send("not json");
    doSide.send(JSON.stringify({ type: "other", version: 1 }));
    doSide.send(JSON.stringify({ type: "version", version: 43 }));
    await readUntil(reader, "id: 43", seen);
    const events = seen.text.split("\n\n").filter((e) => e.includes("data:"));
    expect(events.map((e) => JSON.parse(e.split("data: ")[1]))).toEqual([
      { type: "refetchEvaluation", etag: "42" },
      { type: "refetchEvaluation", etag: "43" },
    ]);
    expect(noted).toEqual([42, 43]);
    await readUntil(reader, ": ping", seen);
    // Client goes away: the DO socket is closed.
    const closed = new Promise<number>((resolve) => doSide.addEventListener("close", (e) => resolve(e.code)));
    await reader.cancel();
    expect(await closed).toBe(1000);
  });

  it("ends the stream when the DO closes its socket", async () => {
    const pair = new WebSocketPair();
    pair[0].accept();
    const reader = relayVersions({ socket: pair[1], heartbeatMs: 1000 }).getReader();
    await readUntil(reader, ": connected");
    pair[0].close(1001, "going away");
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});

describe("stream tokens", () => {
  it("round-trips and rejects tampering, other secrets and expiry", async () => {
    const now = Date.now();
    const token = await signStreamToken("s1", { environment: "prod", kind: "client", expiresAt: now + 60_000 });
    expect(await verifyStreamToken("s1", token, now)).toEqual({ ok: true, claims: { environment: "prod", kind: "client", expiresAt: now + 60_000 } });
    expect((await verifyStreamToken("s2", token, now)).ok).toBe(false);
    expect(await verifyStreamToken("s1", token, now + 60_001)).toEqual({ ok: false, detail: "expired stream token" });
    expect((await verifyStreamToken("s1", token.replace("prod.", "dev."), now)).ok).toBe(false);
  });

  it("one token per environment and kind per hour, valid for at least an hour", async () => {
    const now = Date.UTC(2026, 0, 1, 10, 30);
    const a = await currentStreamToken("s1", "prod", "server", now);
    const b = await currentStreamToken("s1", "prod", "server", now + 1000);
    expect(a).toBe(b);
    const check = await verifyStreamToken("s1", a, now);
    expect(check.ok && check.claims.expiresAt - now).toBeGreaterThanOrEqual(3_600_000);
  });

  it("the stream route rejects an expired but correctly signed token", async () => {
    // vitest.config.ts binds SSE_SECRET = "test-sse-secret".
    const expired = await signStreamToken("test-sse-secret", { environment: "prod", kind: "server", expiresAt: Date.now() - 1 });
    const res = await SELF.fetch(`http://edge.test/ofrep/v1/stream?token=${encodeURIComponent(expired)}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errorCode: "UNAUTHORIZED", errorDetails: "expired stream token" });
  });
});

describe("GET /ofrep/v1/stream with the real environment store", () => {
  it("relays the current version, then each published change; the refetch sees it at once", async () => {
    const bindings = env as unknown as Env;
    // Typed through the RPC contract: the generated stub type is too deep for tsc.
    const store = bindings.ENV_STORE.get(bindings.ENV_STORE.idFromName("live")) as unknown as EnvironmentStoreApi;
    await store.create("live", "test");
    const put = await store.putFlag({ key: "f", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off", clientVisible: true }, "test");
    if (!put.ok) throw new Error(JSON.stringify(put));
    const mint = await store.mintKey("client", "test");
    if (!mint.ok) throw new Error(JSON.stringify(mint));
    const minted = mint.value;
    const headers = { Authorization: `Bearer ${minted.key}`, "Content-Type": "application/json" };
    const bulk = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags", { method: "POST", headers, body: '{"context":{}}' });
    const first = (await bulk.json()) as { metadata: { version: number }; eventStreams: { url: string }[] };
    const etag = bulk.headers.get("etag")!;

    const res = await SELF.fetch(first.eventStreams[0].url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const reader = res.body!.getReader();
    const seen = { text: "" };
    await readUntil(reader, `"etag":"${first.metadata.version}"`, seen);

    const change = await store.putFlag({ key: "f", type: "boolean", variants: { on: true, off: false }, defaultVariant: "on", clientVisible: true }, "test");
    if (!change.ok) throw new Error(JSON.stringify(change));
    const changed = change.value;
    await readUntil(reader, `"etag":"${changed.version}"`, seen);
    // What @openfeature/ofrep-web-provider sends next: the old ETag plus ?flagConfigEtag=<event etag>.
    const refetch = await SELF.fetch(`http://edge.test/ofrep/v1/evaluate/flags?flagConfigEtag=${changed.version}`, {
      method: "POST", headers: { ...headers, "If-None-Match": etag }, body: '{"context":{}}',
    });
    expect(refetch.status).toBe(200);
    const after = (await refetch.json()) as { metadata: { version: number }; flags: { value: unknown }[] };
    expect(after.metadata.version).toBe(changed.version);
    expect(after.flags[0].value).toBe(true);
    await reader.cancel();
  });
});
