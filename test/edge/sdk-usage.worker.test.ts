/**
 * `POST /sdk/v1/usage` (in-process SDKs' usage batches) through the real queue consumer into the
 * store, and what the snapshot route gives those SDKs: the change-stream URL and a version never
 * older than the one they ask for.
 */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { USAGE_BATCH_MAX_BYTES } from "../../src/core/wire/usage-batch";
import { kvKey } from "../../src/core/wire/kv-layout";
import { putSnapshot } from "../support/kv-snapshot";
import { testKey } from "./test-keys";
import { eventually } from "../support/eventually";
import { api, boolFlag, createEnv } from "../admin/support";

const BASE = "http://edge.test";
const kv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;

async function serverKey(environment: string, kind: "server" | "client" = "server"): Promise<string> {
  return (await api("POST", `/environments/${environment}/keys`, { body: { kind } })).body.key as string;
}

function postUsage(key: string | null, body: unknown): Promise<Response> {
  return SELF.fetch(`${BASE}/sdk/v1/usage`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("POST /sdk/v1/usage", () => {
  it("counts a batch in the flag's usage, once however often the same batch id is sent", async () => {
    const environment = await createEnv("sdkusage");
    await api("PUT", `/environments/${environment}/flags/banner`, { body: boolFlag("banner") });
    const key = await serverKey(environment);
    const batch = {
      id: "proc1-1",
      at: Date.now(),
      evaluations: [
        ["banner", "on", "STATIC", 5],
        ["banner", "off", "TARGETING_MATCH", 2],
      ],
    };
    const first = await postUsage(key, batch);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ accepted: true });
    // A retry of the same batch (its answer lost): accepted again, counted once.
    expect((await postUsage(key, batch)).status).toBe(202);
    // Another batch counts on top.
    expect(
      (await postUsage(key, { ...batch, id: "proc1-2", evaluations: [["banner", "on", "STATIC", 1]] })).status,
    ).toBe(202);

    const usage = await eventually(
      async () => {
        const r = await api("GET", `/environments/${environment}/flags/banner/usage?hours=1`);
        return r.body.total >= 8 && r;
      },
      15_000,
      200,
    );
    expect(usage.body).toMatchObject({ total: 8, variants: { on: 6, off: 2 } });
    // Still 8 a moment later: the repeated id was not applied twice (it arrived before the third batch).
    expect((await api("GET", `/environments/${environment}/flags/banner/usage?hours=1`)).body.total).toBe(8);
  });

  it("refuses what is not a server key's well-formed, bounded batch", async () => {
    const environment = await createEnv("sdkusage");
    const key = await serverKey(environment);
    const ok = { id: "p-1", at: Date.now(), evaluations: [["banner", "on", "STATIC", 1]] };

    expect((await postUsage(null, ok)).status).toBe(401);
    const client = await postUsage(await serverKey(environment, "client"), ok);
    expect(client.status).toBe(403);
    expect(((await client.json()) as { errorCode: string }).errorCode).toBe("FORBIDDEN");

    const malformed = await postUsage(key, "{not json");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("MALFORMED_JSON");

    const cases: [string, unknown, string][] = [
      ["bad id", { ...ok, id: "has space" }, "id"],
      ["error reason", { ...ok, evaluations: [["banner", "", "ERROR", 1]] }, "evaluations[0][2]"],
      ["zero count", { ...ok, evaluations: [["banner", "on", "STATIC", 0]] }, "evaluations[0][3]"],
      ["bad flag key", { ...ok, evaluations: [["no/slash", "on", "STATIC", 1]] }, "evaluations[0][0]"],
      ["too old", { ...ok, at: Date.now() - 8 * 86_400_000 }, "at"],
      ["in the future", { ...ok, at: Date.now() + 3_600_000 }, "at"],
    ];
    for (const [what, body, path] of cases) {
      const res = await postUsage(key, body);
      expect(res.status, what).toBe(400);
      const error = ((await res.json()) as { error: { code: string; issues: { path: string }[] } }).error;
      expect(error.code, what).toBe("INVALID");
      expect(
        error.issues.map((i) => i.path),
        what,
      ).toContain(path);
    }

    const rows = Array.from({ length: 3_000 }, (_, i) => [`flag-${i}`, "variant-name", "TARGETING_MATCH", 1]);
    const big = { ...ok, evaluations: rows };
    expect(JSON.stringify(big).length).toBeGreaterThan(USAGE_BATCH_MAX_BYTES);
    const tooLarge = await postUsage(key, big);
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("GET /sdk/v1/snapshot for in-process SDKs", () => {
  it("names the change stream in X-Edgeflags-Stream on 200 and 304 alike", async () => {
    const environment = await createEnv("sdksnap");
    await api("PUT", `/environments/${environment}/flags/banner`, { body: boolFlag("banner") });
    const key = await serverKey(environment);
    const res = await eventually(async () => {
      const r = await SELF.fetch(`${BASE}/sdk/v1/snapshot`, { headers: { Authorization: `Bearer ${key}` } });
      return r.status === 200 && r;
    }, 5_000);
    await res.arrayBuffer();
    const stream = res.headers.get("x-edgeflags-stream")!;
    expect(stream).toMatch(/^http:\/\/edge\.test\/ofrep\/v1\/stream\?token=/);
    const again = await SELF.fetch(`${BASE}/sdk/v1/snapshot`, {
      headers: { Authorization: `Bearer ${key}`, "If-None-Match": res.headers.get("etag")! },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("x-edgeflags-stream")).toBe(stream);
    // The URL opens the stream.
    const opened = await SELF.fetch(stream);
    expect(opened.status).toBe(200);
    await opened.body!.cancel();
  });

  it.each([
    ["flagConfigEtag=2", "?flagConfigEtag=2", {}],
    ['If-None-Match "2-native"', "", { "If-None-Match": '"2-native"' }],
  ] as const)("answers at least the version asked for (%s) while the pointer lags", async (_, query, headers) => {
    const environment = `sdk-lag-${++lagEnvs}`;
    const doc = (value: boolean) =>
      ({
        flags: [{ key: "f", type: "boolean", variants: { v: value }, defaultVariant: "v", enabled: true }],
        segments: [],
      }) as never;
    await putSnapshot(kv(), environment, 1, doc(false));
    const key = await mintKeyDirect(environment);
    const first = await SELF.fetch(`${BASE}/sdk/v1/snapshot`, { headers: { Authorization: `Bearer ${key}` } });
    expect(((await first.json()) as { version: number }).version).toBe(1);
    // Version 2 is in KV but the pointer still names 1 (KV propagation).
    await putSnapshot(kv(), environment, 2, doc(true), { pointer: false });
    const res = await SELF.fetch(`${BASE}/sdk/v1/snapshot${query}`, {
      headers: { Authorization: `Bearer ${key}`, ...headers },
    });
    if (query) expect(((await res.json()) as { version: number }).version).toBe(2);
    else expect(res.status).toBe(304);
  });
});

let lagEnvs = 0;

/** A server key written straight into KV (these environments have no Durable Object). */
async function mintKeyDirect(environment: string): Promise<string> {
  const key = testKey("server");
  const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  await kv().put(
    kvKey.sdkKey(digest),
    JSON.stringify({ id: `lag-${environment}`, kind: "server", environment, revoked: false }),
  );
  return key;
}
