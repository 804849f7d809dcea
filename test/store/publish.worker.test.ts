import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { Publisher, RETRY_CAP_MS } from "../../src/store/publishing/publish";
import { kvKey, type Snapshot } from "../../src/core/wire/kv-layout";
import { PARTITIONED_LAYOUT, openChunks, readRoot } from "../../src/core/wire/snapshot-chunks";
import { readSnapshot as readSnapshotText } from "../../src/core/wire/snapshot-text";
import { eventually } from "../support/eventually";
import {
  E,
  boolFlag,
  instrumentKv,
  must,
  answered,
  newStore,
  query,
  rawStub,
  readPointer,
  readSnapshot,
  type StoreStub,
} from "./helpers";

const alarmAt = (stub: StoreStub) =>
  runInDurableObject(rawStub(stub), (_s: EnvironmentStore, state) => state.storage.getAlarm());

describe("publishing to KV", () => {
  it("each commit writes its new chunks, then the root, then (its slot free) the pointer, before the call answers", async () => {
    const { name, stub } = await newStore("pub");
    const control = await instrumentKv(stub);
    const put = must(await stub.putFlag(boolFlag("f"), "t"));
    expect(control.writes).toEqual([
      expect.stringMatching(new RegExp(`^chunk:${name}:`)),
      `snap:${name}:${put.version}`,
      `ptr:${name}`,
    ]);
    expect(await readPointer(name)).toEqual({ version: put.version, publishedAt: expect.any(String) });
    const snapshot = await readSnapshot(name, put.version);
    expect(snapshot).toMatchObject({ environment: name, version: put.version, doc: { flags: [{ key: "f" }] } });
  });

  it("publishes the partitioned layout: a root naming every chunk, each flag and segment read back through it", async () => {
    const { name, stub } = await newStore("pub-layout");
    must(await stub.putSegment({ key: "s", included: ["u1"], excluded: [], rules: [] }, "t"));
    must(await stub.putFlag(boolFlag("a"), "t"));
    const put = must(
      await stub.putFlag({ ...boolFlag("b"), rules: [{ when: { segment: "s" }, serve: { variant: "on" } }] }, "t"),
    );
    const root = readRoot((await E.FLAGS_KV.get(kvKey.snapshot(name, put.version), "text"))!)!;
    expect(root).toMatchObject({
      environment: name,
      version: put.version,
      layout: { v: PARTITIONED_LAYOUT, flagCount: 2, segmentCount: 1 },
    });
    const chunks = new Map(
      await Promise.all(
        root.chunkIds.map(async (id) => [id, (await E.FLAGS_KV.get(kvKey.chunk(name, id), "text"))!] as const),
      ),
    );
    const read = openChunks(root, chunks)!;
    expect(read.source.flagKeys).toEqual(["a", "b"]);
    expect(read.source.findFlag("b")).toBe(1);
    expect(read.source.flagAt(1)).toMatchObject({ key: "b", rules: [{ when: { segment: "s" } }] });
    expect(read.source.segment("s")).toMatchObject({ key: "s", included: ["u1"] });
    // A reader of layout 3 or earlier finds no `doc` in a root: it keeps its last known good snapshot.
    expect(
      (JSON.parse((await E.FLAGS_KV.get(kvKey.snapshot(name, put.version), "text")) ?? "{}") as Partial<Snapshot>).doc,
    ).toBeUndefined();
    expect(readSnapshotText((await E.FLAGS_KV.get(kvKey.snapshot(name, put.version), "text"))!)).toBeUndefined();
  });

  it("a KV failure leaves the change committed; the alarm retries with backoff until the pointer converges", async () => {
    const { name, stub } = await newStore("kvfail");
    const control = await instrumentKv(stub);
    control.fail = true;
    const put = must(await stub.putFlag(boolFlag("f"), "t"));
    expect(await stub.getFlag("f")).toMatchObject(answered({ version: put.version })); // committed
    expect(await readPointer(name)).toMatchObject({ version: put.version - 1 }); // not published
    const retryAt = await alarmAt(stub);
    expect(retryAt).not.toBeNull();
    expect(retryAt! - Date.now()).toBeLessThanOrEqual(1000); // first retry ~0.5 s, not the 10 s backstop

    // Still failing: the retry fails too and backs off further.
    await runDurableObjectAlarm(rawStub(stub));
    expect(await readPointer(name)).toMatchObject({ version: put.version - 1 });

    control.fail = false;
    await eventually(async () => {
      await runDurableObjectAlarm(rawStub(stub));
      return (await readPointer(name))?.version === put.version;
    }, 5_000);
    expect((await readSnapshot(name, put.version))?.doc.flags).toMatchObject([{ key: "f" }]);
  });

  it("backoff doubles from 0.5 s to a 30 s cap", () => {
    expect([1, 2, 3, 4, 7, 8, 20].map((n) => Publisher.backoff(n))).toEqual([
      500,
      1000,
      2000,
      4000,
      RETRY_CAP_MS,
      RETRY_CAP_MS,
      RETRY_CAP_MS,
    ]);
  });

  it("pointer writes faster than the interval coalesce, and the pointer ends on the last version", async () => {
    const { name, stub } = await newStore("coalesce", 1000);
    const control = await instrumentKv(stub);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stub.putFlag(boolFlag(`f${i}`), "t")));
    const last = Math.max(...results.map((r) => (r.ok ? r.value.version : 0)));
    expect(last).toBe(21);
    // The pointer follows at its slot, after the calls have answered, in one write or a few.
    await eventually(async () => (await readPointer(name))?.version === last, 5_000);
    const pointerWrites = control.writes.filter((k) => k === `ptr:${name}`).length;
    expect(pointerWrites).toBeGreaterThanOrEqual(1);
    expect(pointerWrites).toBeLessThanOrEqual(3);
    expect(await readSnapshot(name, last)).toMatchObject({ version: last });
  });

  // A key shown to the caller before its record is in KV answers 401 at the edge: a mint must not
  // wait behind a pointer write that waits for its slot (deployed: up to a second per write).
  it("a minted key's record is in KV when the mint answers, even while a pointer write waits for its slot", async () => {
    const { name, stub } = await newStore("mint-lane", 60_000);
    await stub.putFlag(boolFlag("a"), "t");
    // This commit's pointer write waits a minute for its slot; the call answers after its bounded wait.
    await stub.putFlag(boolFlag("b"), "t");
    const key = must(await stub.mintKey("server", "t"));
    const hash = (await query<{ hash: string }>(stub, "SELECT hash FROM sdk_keys WHERE id = ?", key.id))[0].hash;
    expect(await E.FLAGS_KV.get(`key:${hash}`, "json")).toEqual({
      id: key.id,
      kind: "server",
      environment: name,
      revoked: false,
    });
    expect(must(await stub.revokeKey(key.id, "t"))).toEqual({ revoked: true });
    expect(await E.FLAGS_KV.get(`key:${hash}`, "json")).toMatchObject({ revoked: true });
    expect(await readPointer(name)).not.toMatchObject({ version: 3 });
  });

  it("republish rebuilds snapshot, pointer and key records from the DO alone", async () => {
    const { name, stub } = await newStore("republish");
    await stub.putFlag(boolFlag("f"), "t");
    const key = must(await stub.mintKey("client", "t"));
    const info = must(await stub.info());
    await E.FLAGS_KV.delete(`ptr:${name}`);
    await E.FLAGS_KV.delete(`snap:${name}:${info.version}`);
    const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key.key)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    await E.FLAGS_KV.delete(`key:${hash}`);
    expect(await stub.republish()).toEqual(answered({ version: info.version }));
    expect(await readPointer(name)).toMatchObject({ version: info.version });
    expect(await readSnapshot(name, info.version)).toMatchObject({ doc: { flags: [{ key: "f" }] } });
    expect(await E.FLAGS_KV.get(`key:${hash}`, "json")).toEqual({
      id: key.id,
      kind: "client",
      environment: name,
      revoked: false,
    });
  });
});

describe("change stream", () => {
  it("a WebSocket subscriber hears every published version; ping → pong", async () => {
    const { stub } = await newStore("ws");
    const res = await stub.fetch("http://store/subscribe", { headers: { Upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const messages: string[] = [];
    ws.addEventListener("message", (event) => {
      messages.push(String(event.data));
    });
    ws.accept();
    await eventually(() => messages.length >= 1, 5_000);
    // On connect: where KV stands, marked as a resync (receivers may spread the refetches it causes).
    expect(JSON.parse(messages[0])).toEqual({ type: "version", version: 1, resync: true });

    const put = must(await stub.putFlag(boolFlag("f"), "t"));
    await eventually(() => messages.some((m) => m.includes(`"version":${put.version}`)), 5_000);
    // A publish is not a resync: it goes to every client at once.
    expect(JSON.parse(messages.find((m) => m.includes(`"version":${put.version}`))!)).toEqual({
      type: "version",
      version: put.version,
    });
    ws.send("ping");
    await eventually(() => messages.includes("pong"), 5_000);
    ws.close(1000, "done");

    const plain = await stub.fetch("http://store/subscribe");
    expect(plain.status).toBe(426);
  });
});
