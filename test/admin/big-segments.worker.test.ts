import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bigShardKey } from "../../src/core/wire/big-segments";
import { E } from "../store/helpers";
import { eventually } from "../support/eventually";
import { api, createEnv, errorOf } from "./support";

/** An environment with segment `vip` and flag `beta` serving "on" to its members. */
async function setUp(prefix: string): Promise<{ env: string; sdkKey: string }> {
  const env = await createEnv(prefix);
  expect((await api("PUT", `/environments/${env}/segments/vip`, { body: { included: ["inline-1"] } })).status).toBe(
    201,
  );
  expect(
    (
      await api("PUT", `/environments/${env}/flags/beta`, {
        body: {
          type: "boolean",
          variants: { on: true, off: false },
          defaultVariant: "off",
          rules: [{ when: { segment: "vip" }, serve: { variant: "on" } }],
        },
      })
    ).status,
  ).toBe(201);
  const minted = await api("POST", `/environments/${env}/keys`, { body: { kind: "server" } });
  return { env, sdkKey: minted.body.key };
}

async function evaluate(sdkKey: string, targetingKey: string): Promise<{ value?: unknown; reason: string }> {
  const res = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags/beta", {
    method: "POST",
    headers: { authorization: `Bearer ${sdkKey}`, "content-type": "application/json" },
    body: JSON.stringify({ context: { targetingKey } }),
  });
  return res.json();
}

const keys = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("big segments: POST …/segments/{key}/keys", () => {
  it("adds and removes keys in batches, one version each; reads answer the keys and counts", async () => {
    const { env } = await setUp("big-batch");
    const first = await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: ["a", "b", "c", "a"] } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ segment: "vip", added: 3, removed: 0, count: 3 });
    const second = await api("POST", `/environments/${env}/segments/vip/keys`, {
      body: { add: ["c", "d"], remove: ["a", "zz"] },
    });
    expect(second.body).toMatchObject({ version: first.body.version + 1, added: 1, removed: 1, count: 3 });
    const got = await api("GET", `/environments/${env}/segments/vip`);
    expect(got.body).toMatchObject({ key: "vip", included: ["inline-1"], keyCount: 3, keys: ["b", "c", "d"] });
    expect(got.body.bigKeys).toBeUndefined();
    expect(got.body.keysNext).toBeUndefined();
    // A PUT of what GET answered keeps the batch-added keys.
    expect(
      (await api("PUT", `/environments/${env}/segments/vip`, { body: { ...got.body, description: "VIPs" } })).status,
    ).toBe(200);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body).toEqual({
      segment: "vip",
      count: 3,
      keys: ["b", "c", "d"],
    });
    const list = await api("GET", `/environments/${env}/segments`);
    expect(list.body.segments[0]).toMatchObject({ key: "vip", includedCount: 1, keyCount: 3 });
    const page = await api("GET", `/environments/${env}/segments/vip/keys?limit=2`);
    expect(page.body).toEqual({ segment: "vip", count: 3, keys: ["b", "c"], next: "c" });
    expect((await api("GET", `/environments/${env}/segments/vip/keys?limit=2&after=c`)).body).toEqual({
      segment: "vip",
      count: 3,
      keys: ["d"],
    });
  });

  it("refuses bad batches with 400, 404 or 413 and changes nothing", async () => {
    const { env } = await setUp("big-limits");
    const version = (await api("GET", `/environments`)).body.environments.find(
      (e: { name: string }) => e.name === env,
    ).version;
    const post = (body: unknown, raw?: string) =>
      api("POST", `/environments/${env}/segments/vip/keys`, raw === undefined ? { body } : { raw });
    const tooMany = await post({ add: keys(60_000), remove: keys(40_001, "gone") });
    expect(tooMany.status).toBe(400);
    expect(errorOf(tooMany).issues?.[0]?.message).toMatch(/at most 100000 keys per call/);
    expect((await post({ add: keys(100_001) })).status).toBe(400);
    expect((await post({ add: [""] })).status).toBe(400);
    expect((await post({ add: [7] })).status).toBe(400);
    expect((await post({ add: ["x".repeat(1025)] })).status).toBe(400);
    expect((await post({})).status).toBe(400);
    expect(errorOf(await post({ add: ["a"], remove: ["a"] })).issues?.[0]?.message).toMatch(/both added and removed/);
    expect((await post(undefined, "{not json")).status).toBe(400);
    const huge = await post(
      undefined,
      JSON.stringify({ add: ["k".repeat(1000)] }).replace(
        "]",
        `,${JSON.stringify("y".repeat(1000))}`.repeat(11_000) + "]",
      ),
    );
    expect(huge.status).toBe(413);
    expect((await api("POST", `/environments/${env}/segments/nope/keys`, { body: { add: ["a"] } })).status).toBe(404);
    expect(
      (await api("POST", `/environments/nope-${Date.now()}/segments/vip/keys`, { body: { add: ["a"] } })).status,
    ).toBe(404);
    const after = (await api("GET", `/environments`)).body.environments.find(
      (e: { name: string }) => e.name === env,
    ).version;
    expect(after).toBe(version);
  });

  it("records counts, never keys, in the audit log", async () => {
    const { env } = await setUp("big-audit");
    await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: keys(500, "secret") } });
    await api("POST", `/environments/${env}/segments/vip/keys`, { body: { remove: ["secret-1", "secret-2"] } });
    const history = await api("GET", `/environments/${env}/history`);
    const rows = history.body.entries.filter((e: { operation: string }) => e.operation === "segment.keys");
    expect(rows).toHaveLength(2);
    expect(rows.map((r: { diff: unknown }) => r.diff)).toEqual([
      { segment: "vip", added: 0, removed: 2, count: 498 },
      { segment: "vip", added: 500, removed: 0, count: 500 },
    ]);
    expect(JSON.stringify(history.body)).not.toContain("secret-3");
  });

  it("the edge evaluates a rule on a big segment from one KV shard per cold shard, and follows batches", async () => {
    const { env, sdkKey } = await setUp("big-edge");
    await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: keys(20_000) } });
    await eventually(async () => (await evaluate(sdkKey, "user-19999")).value === true, 10_000);
    expect(await evaluate(sdkKey, "user-5")).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(await evaluate(sdkKey, "inline-1")).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(await evaluate(sdkKey, "stranger")).toMatchObject({ value: false });
    // The keys are not in the snapshot: only the shard names are.
    const pointer = await E.FLAGS_KV.get<{ version: number }>(`ptr:${env}`, "json");
    const snapshot = (await E.FLAGS_KV.get(`snap:${env}:${pointer!.version}`, "text"))!;
    expect(snapshot).not.toContain('user-5"');
    const segment = (await api("GET", `/environments/${env}/segments/vip`)).body;
    expect(segment.keyCount).toBe(20_000);
    await api("POST", `/environments/${env}/segments/vip/keys`, { body: { remove: ["user-5"], add: ["late"] } });
    await eventually(async () => (await evaluate(sdkKey, "user-5")).value === false, 10_000);
    expect(await evaluate(sdkKey, "late")).toMatchObject({ value: true });
    expect(await evaluate(sdkKey, "user-6")).toMatchObject({ value: true });
    // Bulk answers with a targetingKey read the same shards.
    const bulk = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags", {
      method: "POST",
      headers: { authorization: `Bearer ${sdkKey}`, "content-type": "application/json" },
      body: JSON.stringify({ context: { targetingKey: "user-7" } }),
    });
    expect(
      ((await bulk.json()) as { flags: { key: string; value: unknown }[] }).flags.find((f) => f.key === "beta")?.value,
    ).toBe(true);
    // Explain in the store answers from SQL.
    const explained = await api("POST", `/environments/${env}/explain`, {
      body: { flag: "beta", context: { targetingKey: "user-8" } },
    });
    expect(explained.body).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
  });

  it("pages the keys of a segment past 100,000; rollback restores an earlier key set", async () => {
    const { env, sdkKey } = await setUp("big-page");
    const first = await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: keys(100_000, "a") } });
    expect(first.status).toBe(200);
    const second = await api("POST", `/environments/${env}/segments/vip/keys`, {
      body: { add: keys(5, "b"), remove: ["a-0"] },
    });
    expect(second.body.count).toBe(100_004);
    const got = await api("GET", `/environments/${env}/segments/vip`);
    expect(got.body.keyCount).toBe(100_004);
    expect(got.body.keys).toHaveLength(100_000);
    const rest = await api(
      "GET",
      `/environments/${env}/segments/vip/keys?after=${encodeURIComponent(got.body.keysNext)}`,
    );
    expect(rest.body.next).toBeUndefined();
    expect(got.body.keys.length + rest.body.keys.length).toBe(100_004);
    expect(new Set([...got.body.keys, ...rest.body.keys]).size).toBe(100_004);
    // Rollback to the first batch: a-0 is back, the b keys are gone, at the edge too.
    const back = await api("POST", `/environments/${env}/rollback`, { body: { version: first.body.version } });
    expect(back.status).toBe(200);
    expect((await api("GET", `/environments/${env}/segments/vip/keys?limit=1`)).body).toMatchObject({
      count: 100_000,
      keys: ["a-0"],
    });
    await eventually(async () => (await evaluate(sdkKey, "a-0")).value === true, 10_000);
    expect(await evaluate(sdkKey, "b-1")).toMatchObject({ value: false });
  });

  it("export names big segments in warnings without their keys; an import keeps them; deleting the segment drops them", async () => {
    const { env } = await setUp("big-export");
    await api("POST", `/environments/${env}/segments/vip/keys`, { body: { add: ["k1", "k2"] } });
    const exported = await api("GET", `/environments/${env}/flagd`);
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).not.toContain("k1");
    expect(JSON.stringify(exported.body.warnings ?? exported.headers.get("x-edgeflags-warnings"))).toContain(
      "segments.vip",
    );
    const { warnings: _w, ...doc } = exported.body;
    expect((await api("PUT", `/environments/${env}/flagd`, { body: doc })).status).toBe(200);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body).toMatchObject({
      count: 2,
      keys: ["k1", "k2"],
    });
    // Deleting the segment ends its keys; a new segment of the same key starts empty.
    expect((await api("DELETE", `/environments/${env}/flags/beta`)).status).toBe(200);
    expect((await api("DELETE", `/environments/${env}/segments/vip`)).status).toBe(200);
    expect((await api("PUT", `/environments/${env}/segments/vip`, { body: {} })).status).toBe(201);
    expect((await api("GET", `/environments/${env}/segments/vip/keys`)).body).toEqual({
      segment: "vip",
      count: 0,
      keys: [],
    });
    expect(bigShardKey(env, "vip", "x")).toBe(`bigseg:${env}:vip:x`);
  });
});
