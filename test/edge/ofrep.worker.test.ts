import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { kvKey, type KeyKind } from "../../src/core/wire/kv-layout";
import { testKey } from "./test-keys";
import { eventually } from "../support/eventually";
import { putSnapshot } from "../support/kv-snapshot";

// Everything is written to KV directly (the DO that normally publishes is another module).
const kv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;
const BASE = "http://edge.test";

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

let keySeq = 0;
async function mintKey(environment: string, kind: KeyKind, revoked = false): Promise<string> {
  const key = testKey(kind);
  ++keySeq;
  await kv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: `id-${keySeq}`, kind, environment, revoked }),
  );
  return key;
}

async function publish(environment: string, version: number, doc: EnvironmentDoc): Promise<void> {
  await putSnapshot(kv(), environment, version, doc);
}

function flag(f: Partial<Flag> & Pick<Flag, "key" | "type" | "variants">): Flag {
  return { enabled: true, clientVisible: false, ...f } as Flag;
}

const DOC: EnvironmentDoc = {
  segments: [],
  flags: [
    flag({
      key: "banner",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: "off",
      clientVisible: true,
      metadata: { team: "web" },
      rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "on" } }],
    }),
    flag({ key: "secret", type: "string", variants: { a: "alpha", b: "beta" }, defaultVariant: "b" }),
    flag({
      key: "off-flag",
      type: "string",
      variants: { a: "alpha" },
      defaultVariant: "a",
      enabled: false,
      clientVisible: true,
    }),
    flag({
      key: "no-default",
      type: "number",
      variants: { one: 1 },
      defaultVariant: null,
      clientVisible: true,
      rules: [{ when: { attribute: "plan", op: "equals", values: ["gold"] }, serve: { variant: "one" } }],
    }),
  ],
};

function post(
  path: string,
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

type Json = Record<string, any>;

describe("OFREP single evaluation", () => {
  let server: string;
  let client: string;
  beforeAll(async () => {
    await publish("single", 3, DOC);
    server = await mintKey("single", "server");
    client = await mintKey("single", "client");
  });

  it("200 with key, value, reason, variant and metadata", async () => {
    const res = await post("/ofrep/v1/evaluate/flags/banner", server, {
      context: { targetingKey: "u1", email: "a@example.com" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      key: "banner",
      value: true,
      reason: "TARGETING_MATCH",
      variant: "on",
      metadata: { team: "web" },
    });
    const miss = await post("/ofrep/v1/evaluate/flags/banner", server, {
      context: { targetingKey: "u1", email: "a@other.org" },
    });
    expect(((await miss.json()) as Json).value).toBe(false);
  });

  it("accepts X-API-Key and a context without targetingKey", async () => {
    const res = await post("/ofrep/v1/evaluate/flags/secret", null, { context: {} }, { "X-API-Key": server });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key: "secret", value: "beta", variant: "b", reason: "STATIC" });
  });

  it("disabled flag → 200 {key, reason} without value", async () => {
    const res = await post("/ofrep/v1/evaluate/flags/off-flag", server, { context: {} });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key: "off-flag", reason: "DISABLED" });
  });

  it("no default variant and no rule matched → 200 without value", async () => {
    const res = await post("/ofrep/v1/evaluate/flags/no-default", server, { context: { plan: "free" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.key).toBe("no-default");
    expect(body).not.toHaveProperty("value");
    expect(typeof body.reason).toBe("string");
    const hit = await post("/ofrep/v1/evaluate/flags/no-default", server, { context: { plan: "gold" } });
    expect(await hit.json()).toMatchObject({ value: 1, variant: "one" });
  });

  it("unknown flag → 404 FLAG_NOT_FOUND", async () => {
    const res = await post("/ofrep/v1/evaluate/flags/nope", server, { context: {} });
    expect(res.status).toBe(404);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ key: "nope", errorCode: "FLAG_NOT_FOUND" });
    expect(typeof body.errorDetails).toBe("string");
  });

  it("client key: hidden flag is FLAG_NOT_FOUND, visible flag evaluates", async () => {
    const hidden = await post("/ofrep/v1/evaluate/flags/secret", client, { context: {} });
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as Json).errorCode).toBe("FLAG_NOT_FOUND");
    const visible = await post("/ofrep/v1/evaluate/flags/banner", client, { context: {} });
    expect(visible.status).toBe(200);
  });

  it("malformed JSON → 400 PARSE_ERROR; non-object context → 400 INVALID_CONTEXT", async () => {
    const bad = await post("/ofrep/v1/evaluate/flags/banner", server, "{not json");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ key: "banner", errorCode: "PARSE_ERROR" });
    for (const body of [{ context: [1] }, { context: "x" }, { context: { targetingKey: 5 } }, [1, 2]]) {
      const res = await post("/ofrep/v1/evaluate/flags/banner", server, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).errorCode).toBe("INVALID_CONTEXT");
    }
  });

  it("empty body is the empty context", async () => {
    const res = await SELF.fetch(BASE + "/ofrep/v1/evaluate/flags/secret", {
      method: "POST",
      headers: { Authorization: `Bearer ${server}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Json).value).toBe("beta");
  });
});

describe("authentication", () => {
  beforeAll(async () => publish("auth", 1, DOC));

  it("401 with a JSON body for a missing, unknown or revoked key", async () => {
    const revoked = await mintKey("auth", "server", true);
    for (const key of [null, "ef_unknown_key", testKey(), revoked]) {
      for (const path of ["/ofrep/v1/evaluate/flags/banner", "/ofrep/v1/evaluate/flags"]) {
        const res = await post(path, key, { context: {} });
        expect(res.status).toBe(401);
        expect(((await res.json()) as Json).errorCode).toBe("UNAUTHORIZED");
      }
    }
    const snap = await SELF.fetch(BASE + "/sdk/v1/snapshot");
    expect(snap.status).toBe(401);
  });

  it("a revoked key is refused within the refresh interval (well under 1 s)", async () => {
    const key = await mintKey("auth", "server");
    expect((await post("/ofrep/v1/evaluate/flags/banner", key, { context: {} })).status).toBe(200);
    const hash = await sha256Hex(key);
    const record = (await kv().get(kvKey.sdkKey(hash), "json")) as Json;
    await kv().put(kvKey.sdkKey(hash), JSON.stringify({ ...record, revoked: true }));
    const res = await eventually(async () => {
      const r = await post("/ofrep/v1/evaluate/flags/banner", key, { context: {} });
      return r.status === 401 && r;
    }, 1_000);
    expect(((await res.json()) as Json).errorDetails).toBe("revoked SDK key");
  });

  it("a key of one environment cannot see another's flags", async () => {
    await publish("other", 1, {
      segments: [],
      flags: [flag({ key: "only-other", type: "boolean", variants: { on: true }, defaultVariant: "on" })],
    });
    const authKey = await mintKey("auth", "server");
    const res = await post("/ofrep/v1/evaluate/flags/only-other", authKey, { context: {} });
    expect(res.status).toBe(404);
    const bulk = (await (await post("/ofrep/v1/evaluate/flags", authKey, { context: {} })).json()) as Json;
    expect(bulk.flags.map((f: Json) => f.key)).not.toContain("only-other");
    const otherKey = await mintKey("other", "server");
    expect((await post("/ofrep/v1/evaluate/flags/only-other", otherKey, { context: {} })).status).toBe(200);
  });
});

describe("OFREP bulk evaluation", () => {
  let server: string;
  let client: string;
  beforeAll(async () => {
    await publish("bulk", 7, DOC);
    server = await mintKey("bulk", "server");
    client = await mintKey("bulk", "client");
  });

  it("200 with flags, metadata.version, ETag and an SSE event stream", async () => {
    const res = await post("/ofrep/v1/evaluate/flags", server, {
      context: { targetingKey: "u1", email: "x@example.com" },
    });
    expect(res.status).toBe(200);
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^".+"$/);
    const body = (await res.json()) as Json;
    expect(body.metadata).toEqual({ version: 7 });
    expect(body.flags.map((f: Json) => f.key)).toEqual(["banner", "secret", "off-flag", "no-default"]);
    expect(body.flags[0]).toEqual({
      key: "banner",
      value: true,
      reason: "TARGETING_MATCH",
      variant: "on",
      metadata: { team: "web" },
    });
    expect(body.flags[2]).toEqual({ key: "off-flag", reason: "DISABLED" });
    expect(body.eventStreams).toHaveLength(1);
    expect(body.eventStreams[0]).toMatchObject({ type: "sse", inactivityDelaySec: 120 });
    expect(body.eventStreams[0].url).toMatch(/^http:\/\/edge\.test\/ofrep\/v1\/stream\?token=/);
  });

  it("client key: hidden flags are absent", async () => {
    const body = (await (await post("/ofrep/v1/evaluate/flags", client, { context: {} })).json()) as Json;
    expect(body.flags.map((f: Json) => f.key)).toEqual(["banner", "off-flag", "no-default"]);
  });

  it("If-None-Match with the current ETag → 304 without body; other context or kind → 200", async () => {
    const ctx = { context: { targetingKey: "u2" } };
    const first = await post("/ofrep/v1/evaluate/flags", server, ctx);
    const etag = first.headers.get("etag")!;
    const again = await post("/ofrep/v1/evaluate/flags", server, ctx, { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    // Same context with keys in another order is the same answer.
    const reordered = await post("/ofrep/v1/evaluate/flags", server, { context: { b: 1, targetingKey: "u3", a: 2 } });
    const tag3 = reordered.headers.get("etag")!;
    expect(
      (
        await post(
          "/ofrep/v1/evaluate/flags",
          server,
          { context: { a: 2, targetingKey: "u3", b: 1 } },
          { "If-None-Match": tag3 },
        )
      ).status,
    ).toBe(304);
    expect(
      (await post("/ofrep/v1/evaluate/flags", server, { context: { targetingKey: "u4" } }, { "If-None-Match": etag }))
        .status,
    ).toBe(200);
    expect((await post("/ofrep/v1/evaluate/flags", client, ctx, { "If-None-Match": etag })).status).toBe(200);
  });

  it("a new version changes the ETag (within the refresh interval), and flagConfigEtag reads it at once", async () => {
    await publish("bulk2", 1, DOC);
    const key = await mintKey("bulk2", "server");
    const first = await post("/ofrep/v1/evaluate/flags", key, { context: {} });
    const etag = first.headers.get("etag")!;
    const changed: EnvironmentDoc = {
      segments: [],
      flags: [flag({ key: "secret", type: "string", variants: { a: "alpha", b: "beta" }, defaultVariant: "a" })],
    };
    // Version 2 exists but the pointer still says 1 (KV propagation lag).
    await putSnapshot(kv(), "bulk2", 2, changed, { pointer: false });
    const hinted = await post(
      "/ofrep/v1/evaluate/flags?flagConfigEtag=2",
      key,
      { context: {} },
      { "If-None-Match": etag },
    );
    expect(hinted.status).toBe(200);
    const body = (await hinted.json()) as Json;
    expect(body.metadata.version).toBe(2);
    expect(body.flags).toEqual([{ key: "secret", value: "alpha", variant: "a", reason: "STATIC" }]);
  });

  it("If-None-Match naming a newer version (seen elsewhere) reads that version, not the lagging pointer", async () => {
    await publish("bulk3", 1, DOC);
    const key = await mintKey("bulk3", "server");
    const first = await post("/ofrep/v1/evaluate/flags", key, { context: {} });
    const changed: EnvironmentDoc = {
      segments: [],
      flags: [flag({ key: "secret", type: "string", variants: { a: "alpha" }, defaultVariant: "a" })],
    };
    await putSnapshot(kv(), "bulk3", 2, changed, { pointer: false });
    const tagOfV2 = first.headers.get("etag")!.replace(/^"1-/, '"2-');
    const res = await post("/ofrep/v1/evaluate/flags", key, { context: {} }, { "If-None-Match": tagOfV2 });
    expect(res.status).toBe(304);
    const fresh = (await (await post("/ofrep/v1/evaluate/flags", key, { context: {} })).json()) as Json;
    expect(fresh.metadata.version).toBe(2);
  });

  it("picks up a new version + pointer after the refresh interval", async () => {
    await publish("refresh", 1, DOC);
    const key = await mintKey("refresh", "server");
    const before = (await (await post("/ofrep/v1/evaluate/flags/secret", key, { context: {} })).json()) as Json;
    expect(before.value).toBe("beta");
    await publish("refresh", 2, {
      segments: [],
      flags: [flag({ key: "secret", type: "string", variants: { a: "alpha", b: "beta" }, defaultVariant: "a" })],
    });
    await eventually(async () => {
      const after = (await (await post("/ofrep/v1/evaluate/flags/secret", key, { context: {} })).json()) as Json;
      return after.value === "alpha";
    }, 5_000);
    const bulk = (await (await post("/ofrep/v1/evaluate/flags", key, { context: {} })).json()) as Json;
    expect(bulk.metadata.version).toBe(2);
  });

  it("time-dependent flags: no ETag and never 304", async () => {
    const timeDoc: EnvironmentDoc = {
      segments: [],
      flags: [
        flag({
          key: "sale",
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          clientVisible: true,
          rules: [{ when: { attribute: "$flagd.timestamp", op: "gt", values: [0] }, serve: { variant: "on" } }],
        }),
      ],
    };
    await publish("timed", 1, timeDoc);
    const key = await mintKey("timed", "server");
    const res = await post("/ofrep/v1/evaluate/flags", key, { context: {} });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBeNull();
    expect(((await res.json()) as Json).flags[0].value).toBe(true);
    expect((await post("/ofrep/v1/evaluate/flags", key, { context: {} }, { "If-None-Match": "*" })).status).toBe(200);
  });

  it("malformed body → 400 PARSE_ERROR in the bulk failure shape", async () => {
    const res = await post("/ofrep/v1/evaluate/flags", server, "[");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errorCode: "PARSE_ERROR", errorDetails: expect.any(String) });
    const ctx = await post("/ofrep/v1/evaluate/flags", server, { context: 3 });
    expect(ctx.status).toBe(400);
    expect(((await ctx.json()) as Json).errorCode).toBe("INVALID_CONTEXT");
  });
});

describe("no snapshot published", () => {
  it("single → 404 FLAG_NOT_FOUND, bulk → 200 with no flags, snapshot → 404; never 500", async () => {
    const key = await mintKey("never-published", "server");
    const single = await post("/ofrep/v1/evaluate/flags/banner", key, { context: {} });
    expect(single.status).toBe(404);
    expect(((await single.json()) as Json).errorCode).toBe("FLAG_NOT_FOUND");
    const bulk = await post("/ofrep/v1/evaluate/flags", key, { context: {} });
    expect(bulk.status).toBe(200);
    expect(await bulk.json()).toMatchObject({ flags: [], metadata: { version: 0 } });
    const snap = await SELF.fetch(BASE + "/sdk/v1/snapshot", { headers: { Authorization: `Bearer ${key}` } });
    expect(snap.status).toBe(404);
  });
});

describe("GET /sdk/v1/snapshot", () => {
  beforeAll(async () => publish("snap", 4, DOC));

  it("server key: native document with ETag, then 304", async () => {
    const key = await mintKey("snap", "server");
    const res = await SELF.fetch(BASE + "/sdk/v1/snapshot", { headers: { "X-API-Key": key } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const body = (await res.json()) as Json;
    expect(body.version).toBe(4);
    expect(body.doc.flags.map((f: Json) => f.key)).toEqual(["banner", "secret", "off-flag", "no-default"]);
    const etag = res.headers.get("etag")!;
    const again = await SELF.fetch(BASE + "/sdk/v1/snapshot", { headers: { "X-API-Key": key, "If-None-Match": etag } });
    expect(again.status).toBe(304);
  });

  it("?format=flagd gives a flagd document", async () => {
    const key = await mintKey("snap", "server");
    const res = await SELF.fetch(BASE + "/sdk/v1/snapshot?format=flagd", { headers: { "X-API-Key": key } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.flags.banner).toMatchObject({
      state: "ENABLED",
      defaultVariant: "off",
      variants: { on: true, off: false },
    });
    expect(body.flags["off-flag"].state).toBe("DISABLED");
    expect(res.headers.get("etag")).not.toBe(null);
    const bad = await SELF.fetch(BASE + "/sdk/v1/snapshot?format=yaml", { headers: { "X-API-Key": key } });
    expect(bad.status).toBe(400);
  });

  it("client key → 403", async () => {
    const key = await mintKey("snap", "client");
    const res = await SELF.fetch(BASE + "/sdk/v1/snapshot", { headers: { Authorization: `Bearer ${key}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).errorCode).toBe("FORBIDDEN");
  });
});

describe("CORS", () => {
  it("answers preflights on /ofrep/* from any origin", async () => {
    const res = await SELF.fetch(BASE + "/ofrep/v1/evaluate/flags", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["authorization", "x-api-key", "if-none-match", "content-type"]) expect(allowed).toContain(h);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThanOrEqual(600);
  });

  it("exposes ETag and Retry-After on answers, errors included", async () => {
    const res = await post("/ofrep/v1/evaluate/flags", null, { context: {} }, { Origin: "https://app.example" });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")!.toLowerCase()).toMatch(/etag.*retry-after/);
  });

  it("no CORS headers on /healthz, /sdk or /admin", async () => {
    for (const path of ["/healthz", "/sdk/v1/snapshot", "/admin/v1/environments"]) {
      const res = await SELF.fetch(BASE + path, { headers: { Origin: "https://app.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});

describe("change stream token", () => {
  it("a tampered, expired or missing token → 401", async () => {
    await publish("streamy", 1, DOC);
    const key = await mintKey("streamy", "client");
    const body = (await (await post("/ofrep/v1/evaluate/flags", key, { context: {} })).json()) as Json;
    const url = new URL(body.eventStreams[0].url);
    const token = url.searchParams.get("token")!;
    const [environment, kind, keyId, digest, exp, sig] = token.split(".");
    expect([environment, kind]).toEqual(["streamy", "client"]);
    expect(Number(exp)).toBeGreaterThan(Date.now() + 3_500_000);
    const variants = [
      `other.${kind}.${keyId}.${digest}.${exp}.${sig}`,
      `${environment}.server.${keyId}.${digest}.${exp}.${sig}`,
      `${environment}.${kind}.${keyId}x.${digest}.${exp}.${sig}`,
      `${environment}.${kind}.${keyId}.${digest}.${Number(exp) + 1}.${sig}`,
      `${environment}.${kind}.${keyId}.${digest}.${exp}.${sig.slice(0, -2)}AA`,
      `${environment}.${kind}.${exp}.${sig}`,
      "",
      "garbage",
    ];
    for (const t of variants) {
      const res = await SELF.fetch(`${BASE}/ofrep/v1/stream?token=${encodeURIComponent(t)}`);
      expect(res.status, t).toBe(401);
      expect(((await res.json()) as Json).errorCode).toBe("UNAUTHORIZED");
    }
  });
});

// A public client key must not be able to cause 5xx: they count toward the error-rate alert,
// which pauses release plans. flagd-core answers such contexts ERROR/GENERAL; so do we, as a 400.
describe("evaluation errors caused by the caller's context", () => {
  let key: string;
  beforeAll(async () => {
    await publish("caller-errors", 1, {
      segments: [],
      flags: [
        flag({
          key: "score-gate",
          type: "string",
          variants: { low: "low", high: "high" },
          defaultVariant: "high",
          clientVisible: true,
          targeting: { if: [{ "<": [{ var: "score" }, 10] }, "low", "high"] },
        }),
        flag({
          key: "picked",
          type: "string",
          variants: { a: "alpha" },
          defaultVariant: "a",
          clientVisible: true,
          targeting: { var: "color" },
        }),
        flag({ key: "plain", type: "boolean", variants: { on: true }, defaultVariant: "on", clientVisible: true }),
      ],
    });
    key = await mintKey("caller-errors", "client");
  });

  it("single: a value the rule cannot compare → 400 GENERAL (flagd's result), not 500", async () => {
    const ok = await post("/ofrep/v1/evaluate/flags/score-gate", key, { context: { score: 3 } });
    expect(await ok.json()).toMatchObject({ value: "low" });
    for (const score of ["not a number", { nested: true }, [1, 2]]) {
      const res = await post("/ofrep/v1/evaluate/flags/score-gate", key, { context: { score } });
      expect(res.status, JSON.stringify(score)).toBe(400);
      expect(await res.json()).toMatchObject({ key: "score-gate", errorCode: "GENERAL" });
    }
    const unknownVariant = await post("/ofrep/v1/evaluate/flags/picked", key, { context: { color: "purple" } });
    expect(unknownVariant.status).toBe(400);
    expect(await unknownVariant.json()).toMatchObject({ key: "picked", errorCode: "GENERAL" });
  });

  it("bulk: the failing flag is an error item; the answer and the other flags stay 200", async () => {
    const res = await post("/ofrep/v1/evaluate/flags", key, { context: { score: "x", color: "purple" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    const byKey = Object.fromEntries(body.flags.map((f: Json) => [f.key, f]));
    expect(byKey["score-gate"]).toMatchObject({ errorCode: "GENERAL" });
    expect(byKey["picked"]).toMatchObject({ errorCode: "GENERAL" });
    expect(byKey["plain"]).toMatchObject({ value: true });
  });
});
