import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { kvKey, type KeyKind } from "../../src/core/wire/kv-layout";
import { sha256Hex } from "../../src/core/sha256";
import { bulkCacheUrl, CACHE_HEADER, clearMemoryLevel, snapshotCacheUrl } from "../../src/edge/edge-cache";
import { canonicalJson } from "../../src/core/canonical";
import worker from "../../src/index";
import { testKey } from "./test-keys";
import { eventually } from "../support/eventually";
import { putSnapshot } from "../support/kv-snapshot";

// The Worker is called in this isolate (not through SELF) so that each request's waitUntil work,
// the Cache API put, is awaited before the next request, and so the test shares the module whose
// memory level clearMemoryLevel() empties (what a fresh isolate would see).
const realEnv = env as unknown as { FLAGS_KV: KVNamespace } & Record<string, unknown>;
const kv = () => realEnv.FLAGS_KV;
const BASE = "http://edge.test";
type Json = Record<string, any>;

let seq = 0;
async function mintKey(environment: string, kind: KeyKind): Promise<string> {
  const key = testKey(kind);
  ++seq;
  await kv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: `ec-${seq}`, kind, environment, revoked: false }),
  );
  return key;
}

async function publish(environment: string, version: number, doc: EnvironmentDoc): Promise<void> {
  await putSnapshot(kv(), environment, version, doc);
}

const flag = (f: Partial<Flag> & Pick<Flag, "key" | "type" | "variants">): Flag =>
  ({ enabled: true, clientVisible: false, ...f }) as Flag;

const doc = (greeting: string): EnvironmentDoc => ({
  segments: [],
  flags: [
    flag({
      key: "banner",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "off",
      clientVisible: true,
      rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } }],
    }),
    flag({ key: "greeting", type: "string", variants: { a: greeting, b: "other" }, defaultVariant: "a" }),
  ],
});

async function call(request: Request, bindings: object = realEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function bulk(key: string, context: Record<string, unknown>, bindings?: object): Promise<Response> {
  return call(
    new Request(BASE + "/ofrep/v1/evaluate/flags", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ context }),
    }),
    bindings,
  );
}

function snapshot(key: string, format?: string): Promise<Response> {
  return call(
    new Request(`${BASE}/sdk/v1/snapshot${format ? `?format=${format}` : ""}`, {
      headers: { Authorization: `Bearer ${key}` },
    }),
  );
}

async function storedBulk(environment: string, version: number, kind: KeyKind, context: Record<string, unknown>) {
  return caches.default.match(bulkCacheUrl(environment, version, kind, await sha256Hex(canonicalJson(context))));
}

describe("Cache API level behind isolate memory", () => {
  it("a repeat of an anonymous bulk request from a cold isolate is served from the Cache API", async () => {
    await publish("ec-repeat", 1, doc("hello"));
    const key = await mintKey("ec-repeat", "server");
    const context = { country: "NZ", email: "x@example.com" };
    const first = await bulk(key, context);
    expect(first.status).toBe(200);
    expect(first.headers.get(CACHE_HEADER)).toBe("miss");
    const body = (await first.json()) as Json;
    expect(body.flags.find((f: Json) => f.key === "banner").value).toBe(true);

    const second = await bulk(key, { email: "x@example.com", country: "NZ" }); // same context, other key order
    expect(second.headers.get(CACHE_HEADER)).toBe("memory");

    clearMemoryLevel();
    const third = await bulk(key, context);
    expect(third.headers.get(CACHE_HEADER)).toBe("cache");
    expect(await third.json()).toEqual(body);
    // The client still revalidates; only the stored copy is public.
    expect(third.headers.get("cache-control")).toBe("private, no-cache");
    expect(third.headers.get("etag")).toBe(first.headers.get("etag"));
    const stored = await storedBulk("ec-repeat", 1, "server", context);
    expect(stored?.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    expect(JSON.parse(await stored!.text())).toEqual(body.flags);

    // A different context is a different entry.
    clearMemoryLevel();
    expect((await bulk(key, { country: "DE" })).headers.get(CACHE_HEADER)).toBe("miss");
  });

  it("client and server keys, and two environments, never share an entry", async () => {
    await publish("ec-env-a", 1, doc("from-a"));
    await publish("ec-env-b", 1, doc("from-b"));
    const serverA = await mintKey("ec-env-a", "server");
    const clientA = await mintKey("ec-env-a", "client");
    const serverB = await mintKey("ec-env-b", "server");
    const context = { plan: "free" };

    const a = (await (await bulk(serverA, context)).json()) as Json;
    expect(a.flags.map((f: Json) => f.key).sort()).toEqual(["banner", "greeting"]);

    clearMemoryLevel();
    const client = await bulk(clientA, context);
    expect(client.headers.get(CACHE_HEADER)).toBe("miss");
    expect(((await client.json()) as Json).flags.map((f: Json) => f.key)).toEqual(["banner"]);

    clearMemoryLevel();
    const b = await bulk(serverB, context);
    expect(b.headers.get(CACHE_HEADER)).toBe("miss");
    expect(((await b.json()) as Json).flags.find((f: Json) => f.key === "greeting").value).toBe("from-b");

    // Each has its own entry now, holding its own answer.
    clearMemoryLevel();
    const clientAgain = await bulk(clientA, context);
    expect(clientAgain.headers.get(CACHE_HEADER)).toBe("cache");
    expect(((await clientAgain.json()) as Json).flags.map((f: Json) => f.key)).toEqual(["banner"]);
    const aAgain = await bulk(serverA, context);
    expect(aAgain.headers.get(CACHE_HEADER)).toBe("cache");
    expect(((await aAgain.json()) as Json).flags.find((f: Json) => f.key === "greeting").value).toBe("from-a");
  });

  it("a context with targetingKey is never put", async () => {
    await publish("ec-user", 1, doc("hi"));
    const key = await mintKey("ec-user", "server");
    const context = { targetingKey: "user-1", email: "u@example.com" };
    for (let i = 0; i < 2; i++) {
      clearMemoryLevel();
      const res = await bulk(key, context);
      expect(res.status).toBe(200);
      expect(res.headers.get(CACHE_HEADER)).toBe("miss");
    }
    expect(await storedBulk("ec-user", 1, "server", context)).toBeUndefined();
  });

  it("an environment with a time-dependent flag is never put", async () => {
    const timed: EnvironmentDoc = {
      segments: [],
      flags: [
        flag({
          key: "sale",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          rules: [{ when: { attribute: "$flagd.timestamp", op: "gt", values: [0] }, serve: { variant: "on" } }],
        }),
      ],
    };
    await publish("ec-timed", 1, timed);
    const key = await mintKey("ec-timed", "server");
    for (let i = 0; i < 2; i++) {
      clearMemoryLevel();
      const res = await bulk(key, {});
      expect(res.headers.get(CACHE_HEADER)).toBe("miss");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    expect(await storedBulk("ec-timed", 1, "server", {})).toBeUndefined();
  });

  it("a new version uses a new entry", async () => {
    await publish("ec-version", 1, doc("v1"));
    const key = await mintKey("ec-version", "server");
    const greeting = async (res: Response) =>
      ((await res.json()) as Json).flags.find((f: Json) => f.key === "greeting").value;
    expect(await greeting(await bulk(key, {}))).toBe("v1");
    await publish("ec-version", 2, doc("v2"));
    // The first answer from v2 (once the isolate's snapshot refresh sees it) is computed, not cached.
    const next = await eventually(async () => {
      clearMemoryLevel();
      const res = await bulk(key, {});
      return (await greeting(res.clone())) === "v2" && res;
    }, 5_000);
    expect(next.headers.get(CACHE_HEADER)).toBe("miss");
    expect(JSON.parse(await (await storedBulk("ec-version", 1, "server", {}))!.text())[1].value).toBe("v1");
    expect(JSON.parse(await (await storedBulk("ec-version", 2, "server", {}))!.text())[1].value).toBe("v2");
  });

  it("snapshot: each format is stored per version and served from the Cache API to a cold isolate", async () => {
    await publish("ec-snap", 3, doc("snap"));
    const server = await mintKey("ec-snap", "server");
    const client = await mintKey("ec-snap", "client");
    expect((await snapshot(client)).status).toBe(403);
    expect(await caches.default.match(snapshotCacheUrl("ec-snap", 3, "native"))).toBeUndefined();

    const native = await snapshot(server);
    expect(native.headers.get(CACHE_HEADER)).toBe("miss");
    const nativeBody = await native.text();
    const flagd = await snapshot(server, "flagd");
    expect(flagd.headers.get(CACHE_HEADER)).toBe("miss");
    const flagdBody = await flagd.text();
    expect(flagdBody).not.toBe(nativeBody);

    clearMemoryLevel();
    const again = await snapshot(server);
    expect(again.headers.get(CACHE_HEADER)).toBe("cache");
    expect(again.headers.get("cache-control")).toBe("private, no-cache");
    expect(await again.text()).toBe(nativeBody);
    const flagdAgain = await snapshot(server, "flagd");
    expect(flagdAgain.headers.get(CACHE_HEADER)).toBe("cache");
    expect(await flagdAgain.text()).toBe(flagdBody);
    // 304 answers come before any level and store nothing new.
    const cond = await call(
      new Request(BASE + "/sdk/v1/snapshot", {
        headers: { Authorization: `Bearer ${server}`, "If-None-Match": again.headers.get("etag")! },
      }),
    );
    expect(cond.status).toBe(304);
    expect(cond.headers.get(CACHE_HEADER)).toBeNull();
  });

  it("cache keys refuse a missing part", () => {
    expect(() => bulkCacheUrl("", 1, "server", "h")).toThrow(/environment/);
    expect(() => bulkCacheUrl("e", 0, "server", "h")).toThrow(/version/);
    expect(() => bulkCacheUrl("e", 1, "" as KeyKind, "h")).toThrow(/kind/);
    expect(() => bulkCacheUrl("e", 1, "client", "")).toThrow(/context/);
    expect(bulkCacheUrl("a/b", 2, "client", "ff")).toBe("https://edgeflags.cache/v1/bulk/a%2Fb/2/client/ff");
  });
});

describe("bulk through a KV outage", () => {
  it("metadata says stale: true once KV fails after a snapshot was cached", async () => {
    await publish("ec-stale", 5, doc("kept"));
    const key = await mintKey("ec-stale", "server");
    let failing = false;
    const flaky = {
      get: (...args: unknown[]) =>
        failing ? Promise.reject(new Error("KV down")) : (kv().get as (...a: unknown[]) => Promise<unknown>)(...args),
    };
    const bindings = new Proxy(realEnv, {
      get: (target, prop) => (prop === "FLAGS_KV" ? flaky : Reflect.get(target, prop)),
    });
    const ok = (await (await bulk(key, { n: 1 }, bindings)).json()) as Json;
    expect(ok.metadata).toEqual({ version: 5 });
    failing = true;
    // Once the snapshot and the key are due for a refresh, both go back to KV, fail, and the held ones answer.
    const body = await eventually(async () => {
      const res = await bulk(key, { n: 1 }, bindings);
      expect(res.status).toBe(200);
      const json = (await res.json()) as Json;
      return json.metadata.stale === true && json;
    }, 5_000);
    expect(body.metadata).toEqual({ version: 5, stale: true });
    expect(body.flags).toEqual(ok.flags);
  });
});

describe("wrong methods on evaluation routes", () => {
  it("answer 405 JSON with Allow, and the preflight still works", async () => {
    for (const path of ["/ofrep/v1/evaluate/flags", "/ofrep/v1/evaluate/flags/banner"]) {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const res = await call(new Request(BASE + path, { method }));
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toContain("POST");
        expect(((await res.json()) as Json).errorCode).toBe("METHOD_NOT_ALLOWED");
      }
      const pre = await call(
        new Request(BASE + path, {
          method: "OPTIONS",
          headers: { Origin: "https://x.test", "Access-Control-Request-Method": "POST" },
        }),
      );
      expect(pre.status).toBe(204);
    }
  });
});
