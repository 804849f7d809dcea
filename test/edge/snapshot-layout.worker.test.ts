/**
 * The edge answers the same, byte for byte and ETag for ETag, from a snapshot in the partitioned
 * layout 4 (a root and content-addressed chunks, what the store publishes now), in layout 3
 * (per-flag fragments behind a packed key index, what the deploy before wrote), from the
 * same document in layout 2 (keys as a JSON array: what the previous deploy published, read whole
 * during a rollout) and in the earlier one-line layout. A flag whose segment is broken answers
 * PARSE_ERROR; the others answer.
 */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { kvKey, type KeyKind } from "../../src/core/wire/kv-layout";
import { SNAPSHOT_LAYOUT, encodeDoc, snapshotText } from "../../src/core/wire/snapshot-text";
import { PARTITIONED_LAYOUT } from "../../src/core/wire/snapshot-chunks";
import { putSnapshot } from "../support/kv-snapshot";
import { eventually } from "../support/eventually";
import { sha256Hex } from "../../src/core/sha256";
import { testKey } from "./test-keys";

const kv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;
const BASE = "http://edge.test";

async function mintKey(environment: string, kind: KeyKind): Promise<string> {
  const key = testKey(kind);
  await kv().put(
    kvKey.sdkKey(await sha256Hex(key)),
    JSON.stringify({ id: `id-${environment}-${kind}`, kind, environment, revoked: false }),
  );
  return key;
}

/** A value as the deploy before layout 3 wrote it: the same document lines, the keys as a JSON array. */
function layout2Text(head: { environment: string; version: number; publishedAt: string }, doc: EnvironmentDoc): string {
  const encoded = encodeDoc(doc);
  const current = JSON.parse(encoded.layout) as {
    w: number;
    flags: string;
    flagAt: string;
    segments: string;
    segmentAt: string;
    metadataAt?: unknown;
  };
  const keys = (packed: string) =>
    packed === ""
      ? []
      : packed
          .slice(1)
          .split(" ")
          .map((k) => k.slice(0, k.lastIndexOf("/")));
  const layout = {
    v: 2,
    w: current.w,
    flags: keys(current.flags),
    flagAt: current.flagAt,
    segments: keys(current.segments),
    segmentAt: current.segmentAt,
    metadataAt: current.metadataAt,
  };
  return JSON.stringify({ ...head, layout }).slice(0, -1) + ',"doc":\n' + encoded.text + "}";
}

async function publish(
  environment: string,
  doc: EnvironmentDoc,
  layout: 1 | 2 | typeof SNAPSHOT_LAYOUT | typeof PARTITIONED_LAYOUT,
  version = 3,
): Promise<void> {
  const head = { environment, version, publishedAt: "2026-12-03T17:00:00.000Z" };
  if (layout === PARTITIONED_LAYOUT)
    return putSnapshot(kv(), environment, version, doc, { publishedAt: head.publishedAt });
  const text =
    layout === SNAPSHOT_LAYOUT
      ? snapshotText(head, encodeDoc(doc))
      : layout === 2
        ? layout2Text(head, doc)
        : JSON.stringify({ ...head, doc });
  await kv().put(kvKey.snapshot(environment, version), text);
  await kv().put(kvKey.pointer(environment), JSON.stringify({ version, publishedAt: head.publishedAt }));
}

const flag = (f: Partial<Flag> & Pick<Flag, "key">): Flag => ({
  type: "string",
  variants: { a: "alpha", b: "beta" },
  defaultVariant: "b",
  enabled: true,
  clientVisible: true,
  ...f,
});

// Key order as the store writes documents (and as the layouts with fragments always write them).
const DOC: EnvironmentDoc = {
  flags: [
    flag({ key: "static" }),
    flag({
      key: "vip",
      rules: [{ when: { segment: "vips" }, serve: { variant: "a" } }],
      metadata: { owner: "growth" },
    }),
    flag({
      key: "rollout",
      fallthrough: {
        rollout: {
          variants: [
            { variant: "a", weight: 1 },
            { variant: "b", weight: 1 },
          ],
        },
      },
    }),
    flag({ key: "off", enabled: false }),
    flag({ key: "needs-vip", prerequisites: [{ flag: "vip", variant: "a" }], fallthrough: { variant: "a" } }),
    flag({ key: "server-only", clientVisible: false }),
  ],
  segments: [{ key: "vips", included: ["u1"], excluded: [], rules: [] }],
  metadata: { team: "web" },
};

const post = (path: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  SELF.fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });

async function answers(environment: string, kind: KeyKind) {
  const key = await mintKey(environment, kind);
  const out: Array<[number, string, string | null]> = [];
  for (const context of [{}, { targetingKey: "u1" }, { targetingKey: "u2" }]) {
    for (const f of [...DOC.flags.map((x) => x.key), "missing"]) {
      const r = await post(`/ofrep/v1/evaluate/flags/${f}`, key, { context });
      out.push([r.status, await r.text(), null]);
    }
    const bulk = await post("/ofrep/v1/evaluate/flags", key, { context });
    const etag = bulk.headers.get("ETag");
    // The stream token names the environment: the one part that differs.
    out.push([bulk.status, (await bulk.text()).replace(/token=[^"]+/, "token=…"), etag]);
    const again = await post("/ofrep/v1/evaluate/flags", key, { context }, { "If-None-Match": etag! });
    out.push([again.status, await again.text(), again.headers.get("ETag")]);
  }
  return out;
}

describe("snapshot layouts at the edge", () => {
  it("answers single, bulk and 304 the same from the partitioned layout as from layouts 3, 2 and the earlier one-line layout", async () => {
    await publish("layout-one", DOC, 1);
    await publish("layout-two", DOC, 2);
    await publish("layout-now", DOC, SNAPSHOT_LAYOUT);
    await publish("layout-four", DOC, PARTITIONED_LAYOUT);
    for (const kind of ["client", "server"] as const) {
      const one = await answers("layout-one", kind);
      expect(await answers("layout-two", kind)).toEqual(one);
      expect(await answers("layout-now", kind)).toEqual(one);
      expect(await answers("layout-four", kind)).toEqual(one);
      expect(one.filter(([status]) => status === 304).length).toBe(3);
    }
    const r = await post("/ofrep/v1/evaluate/flags/vip", await mintKey("layout-now", "server"), {
      context: { targetingKey: "u1" },
    });
    expect(await r.text()).toBe(
      '{"key":"vip","reason":"TARGETING_MATCH","value":"alpha","variant":"a","metadata":{"team":"web","owner":"growth"}}',
    );
  });

  it("serves the SDK snapshot of every layout as it served the earlier layout", async () => {
    const server1 = await mintKey("layout-one", "server");
    for (const other of ["layout-two", "layout-now", "layout-four"]) {
      const server2 = await mintKey(other, "server");
      for (const format of ["native", "flagd"]) {
        const a = await SELF.fetch(`${BASE}/sdk/v1/snapshot?format=${format}`, {
          headers: { Authorization: `Bearer ${server1}` },
        });
        const b = await SELF.fetch(`${BASE}/sdk/v1/snapshot?format=${format}`, {
          headers: { Authorization: `Bearer ${server2}` },
        });
        expect(b.status).toBe(200);
        expect((await b.text()).replaceAll(other, "layout-one")).toBe(await a.text());
      }
    }
  });

  it("an isolate holding one layout reads the next version in another, both ways (a rollout and its rollback)", async () => {
    const key = await mintKey("layout-change", "server");
    const value = async () =>
      (await (await post("/ofrep/v1/evaluate/flags/static", key, { context: {} })).json()) as { value?: string };
    await publish("layout-change", DOC, SNAPSHOT_LAYOUT, 3);
    expect(await value()).toMatchObject({ value: "beta" });
    const flipped = (variant: string): EnvironmentDoc => ({
      ...DOC,
      flags: DOC.flags.map((f) => (f.key === "static" ? { ...f, defaultVariant: variant } : f)),
    });
    await publish("layout-change", flipped("a"), PARTITIONED_LAYOUT, 4);
    await eventually(async () => (await value()).value === "alpha", 5_000);
    await publish("layout-change", flipped("b"), SNAPSHOT_LAYOUT, 5);
    await eventually(async () => (await value()).value === "beta", 5_000);
  });

  it("a flag whose segment is broken answers PARSE_ERROR; a flag needing it too; the others answer", async () => {
    const broken: EnvironmentDoc = {
      ...DOC,
      segments: [{ key: "vips", included: [], excluded: [], rules: [{ segment: "vips" }] }],
    };
    await publish("layout-broken", broken, SNAPSHOT_LAYOUT);
    const key = await mintKey("layout-broken", "server");
    for (const f of ["vip", "needs-vip"]) {
      const r = await post(`/ofrep/v1/evaluate/flags/${f}`, key, { context: {} });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({
        key: f,
        errorCode: "PARSE_ERROR",
        errorDetails: expect.stringContaining("segment cycle: vips → vips"),
      });
    }
    const ok = await post("/ofrep/v1/evaluate/flags/static", key, { context: {} });
    expect(ok.status).toBe(200);
    const bulk = (await (await post("/ofrep/v1/evaluate/flags", key, { context: {} })).json()) as {
      flags: Array<{ key: string; errorCode?: string }>;
    };
    expect(bulk.flags.filter((f) => f.errorCode === "PARSE_ERROR").map((f) => f.key)).toEqual(["vip", "needs-vip"]);
  });
});
