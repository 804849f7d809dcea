import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CompiledEnvironment } from "../../src/core/evaluation-types";
import type { SnapshotRead } from "../../src/core/wire/snapshot-text";
import { ok } from "../../src/core/result";
import { kvKey } from "../../src/core/wire/kv-layout";
import { MAX_MISSING_PER_INTERVAL, SnapshotCache } from "../../src/edge/snapshot-cache";
import { putSnapshot } from "../support/kv-snapshot";
import { FaultyKv } from "./faulty-kv";

// The cache is tested through a KV wrapper that can fail, stall and count reads; compile is a
// stand-in that records the metadata of the snapshot it was given (the real compiler is exercised by the route tests).
const realKv = () => (env as unknown as { FLAGS_KV: KVNamespace }).FLAGS_KV;

function fakeCompile(snapshot: SnapshotRead) {
  const compiled = {
    flags: [],
    timeDependent: false,
    metadata: snapshot.source.metadata,
  } as unknown as CompiledEnvironment;
  return ok(compiled);
}

async function publish(environment: string, version: number, marker: string, pointer = true) {
  await putSnapshot(
    realKv(),
    environment,
    version,
    { flags: [], segments: [], metadata: { marker } },
    { publishedAt: "t", pointer },
  );
}

/** A chunk of a partitioned snapshot (test/support/kv-snapshot.ts publishes in that layout). */
const aChunk = expect.stringMatching(/^chunk:/);

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("SnapshotCache", () => {
  it("serves from memory within the refresh interval, re-reads the pointer after it", async () => {
    await publish("c1", 1, "one");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 250, now: t.now });
    const a = await cache.get(kv, "c1");
    expect(a.ok && a.snapshot.version).toBe(1);
    expect(kv.reads).toEqual([kvKey.pointer("c1"), kvKey.snapshot("c1", 1), aChunk]);
    await publish("c1", 2, "two");
    t.t += 100;
    const b = await cache.get(kv, "c1");
    expect(b.ok && b.snapshot.version).toBe(1);
    expect(kv.reads).toHaveLength(3);
    t.t += 200;
    const c = await cache.get(kv, "c1");
    expect(c.ok && c.snapshot.version).toBe(2);
    expect(c.ok && c.snapshot.doc()?.metadata).toEqual({ marker: "two" });
    // Only the root changed (metadata lives in it): the flag chunk held for version 1 is reused.
    expect(kv.reads.slice(3)).toEqual([kvKey.pointer("c1"), kvKey.snapshot("c1", 2)]);
    // Unchanged pointer: one pointer read, no snapshot read.
    t.t += 300;
    await cache.get(kv, "c1");
    expect(kv.reads.slice(5)).toEqual([kvKey.pointer("c1")]);
  });

  it("keeps answering from last-known-good (stale) when KV throws or hangs, and recovers", async () => {
    await publish("c2", 5, "five");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 250, kvTimeoutMs: 50, now: t.now });
    expect((await cache.get(kv, "c2")).ok).toBe(true);
    kv.mode = "throw";
    t.t += 1000;
    const down = await cache.get(kv, "c2");
    expect(down.ok && down.snapshot.version).toBe(5);
    expect(down.ok && down.snapshot.stale).toBe(true);
    kv.mode = "hang";
    t.t += 1000;
    const slow = await cache.get(kv, "c2");
    expect(slow.ok && slow.snapshot.stale).toBe(true);
    kv.mode = "ok";
    t.t += 1000;
    const back = await cache.get(kv, "c2");
    expect(back.ok && back.snapshot.stale).toBe(false);
  });

  it("KV down with nothing cached → unavailable (not a throw); no pointer → none", async () => {
    const kv = new FaultyKv(realKv);
    kv.mode = "throw";
    const cache = new SnapshotCache({ compile: fakeCompile });
    expect(await cache.get(kv, "c3")).toMatchObject({ ok: false, reason: "unavailable" });
    kv.mode = "ok";
    expect(await cache.get(kv, "never")).toMatchObject({ ok: false, reason: "none" });
  });

  it("concurrent requests share one load", async () => {
    await publish("c4", 1, "one");
    const kv = new FaultyKv(realKv);
    const cache = new SnapshotCache({ compile: fakeCompile });
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get(kv, "c4")));
    expect(results.every((r) => r.ok && r.snapshot.version === 1)).toBe(true);
    expect(kv.reads).toEqual([kvKey.pointer("c4"), kvKey.snapshot("c4", 1), aChunk]);
  });

  it("noteVersion reads the announced version before the pointer moves; a missing one falls back", async () => {
    await publish("c5", 1, "one");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 10_000, now: t.now });
    await cache.get(kv, "c5");
    await publish("c5", 2, "two", false);
    cache.noteVersion("c5", 2);
    const r = await cache.get(kv, "c5");
    expect(r.ok && r.snapshot.version).toBe(2);
    // A version that does not exist (yet): pointer's version kept, tried once per interval.
    cache.noteVersion("c5", 9);
    const s = await cache.get(kv, "c5");
    expect(s.ok && s.snapshot.version).toBe(2);
    const reads = kv.reads.length;
    await cache.get(kv, "c5");
    expect(kv.reads.length).toBe(reads);
    // A client hint (flagConfigEtag) works the same way.
    await publish("c5", 3, "three", false);
    const h = await cache.get(kv, "c5", 3);
    expect(h.ok && h.snapshot.version).toBe(3);
  });

  it("made-up hinted versions cost at most a few KV reads per interval", async () => {
    await publish("c8", 1, "one");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 1000, now: t.now });
    await cache.get(kv, "c8");
    for (let v = 100; v < 150; v++) {
      const r = await cache.get(kv, "c8", v);
      expect(r.ok && r.snapshot.version).toBe(1);
    }
    const snapshotReads = kv.reads.filter((k) => k.startsWith("snap:")).length;
    expect(snapshotReads).toBeLessThanOrEqual(1 + MAX_MISSING_PER_INTERVAL);
  });

  it("never goes back to an older version when the pointer lags", async () => {
    await publish("c6", 1, "one");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 100, now: t.now });
    await publish("c6", 2, "two", false);
    cache.noteVersion("c6", 2);
    expect((await cache.get(kv, "c6")).ok).toBe(true);
    t.t += 500;
    const r = await cache.get(kv, "c6");
    expect(r.ok && r.snapshot.version).toBe(2);
  });

  it("a snapshot that does not compile keeps the previous one", async () => {
    await publish("c7", 1, "one");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const compile = (snapshot: SnapshotRead) =>
      snapshot.source.metadata?.marker === "bad"
        ? { ok: false as const, errors: [{ path: "flags", message: "bad" }] }
        : fakeCompile(snapshot);
    const cache = new SnapshotCache({ compile, refreshMs: 100, now: t.now });
    await cache.get(kv, "c7");
    await publish("c7", 2, "bad");
    t.t += 500;
    const r = await cache.get(kv, "c7");
    expect(r.ok && r.snapshot.version).toBe(1);
  });

  // The runtime kills a request that awaits a promise another request started (that request may
  // be cancelled with its client, and its I/O with it): the 500s "code had hung" under load.
  it("a request never waits on another request's load: what is held answers meanwhile", async () => {
    await publish("h1", 1, "one");
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 250, kvTimeoutMs: 600_000, now: t.now });
    expect((await cache.get(new FaultyKv(realKv), "h1")).ok).toBe(true);
    t.t += 1000;
    const hung = new FaultyKv(realKv);
    hung.mode = "hang";
    void cache.get(hung, "h1"); // request A: its KV read never settles (its client went away)
    const other = new FaultyKv(realKv);
    const b = await cache.get(other, "h1"); // request B: answered from memory, no read of its own
    expect(b.ok && b.snapshot.version).toBe(1);
    expect(other.reads).toEqual([]);
  });

  it("with nothing held, a request takes over a load whose request is gone, with its own read", async () => {
    await publish("h2", 4, "four");
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 250, kvTimeoutMs: 50, now: t.now });
    const hung = new FaultyKv(realKv);
    hung.mode = "hang";
    // Request A's KV read never settles and, cancelled, it never reaches its own deadline either
    // (the fake clock stands still for it): B must not wait for A's promise.
    const a = cache.get(hung, "h2");
    t.t += 10_000;
    const own = new FaultyKv(realKv);
    const b = await cache.get(own, "h2");
    expect(b.ok && b.snapshot.version).toBe(4);
    expect(own.reads).toEqual([kvKey.pointer("h2"), kvKey.snapshot("h2", 4), aChunk]);
    void a;
  });

  it("a pointer that reads as null keeps the held snapshot; only the store's tombstone drops it", async () => {
    await publish("n1", 3, "three");
    const kv = new FaultyKv(realKv);
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 100, now: t.now });
    expect((await cache.get(kv, "n1")).ok).toBe(true);
    kv.mode = "null";
    t.t += 500;
    const blip = await cache.get(kv, "n1");
    expect(blip.ok && blip.snapshot.version).toBe(3);
    expect(blip.ok && blip.snapshot.stale).toBe(true);
    kv.mode = "ok";
    t.t += 500;
    const back = await cache.get(kv, "n1");
    expect(back.ok && back.snapshot.stale).toBe(false);
    await realKv().put(kvKey.pointer("n1"), JSON.stringify({ deleted: true, deletedAt: "t" }));
    t.t += 500;
    expect(await cache.get(kv, "n1")).toMatchObject({ ok: false, reason: "none" });
  });

  it("KV down with nothing held costs one read per interval, not one per request", async () => {
    const kv = new FaultyKv(realKv);
    kv.mode = "throw";
    const t = clock();
    const cache = new SnapshotCache({ compile: fakeCompile, refreshMs: 250, now: t.now });
    for (let i = 0; i < 20; i++)
      expect(await cache.get(kv, "down")).toMatchObject({ ok: false, reason: "unavailable" });
    expect(kv.reads).toHaveLength(1);
    t.t += 300;
    kv.mode = "ok";
    await publish("down", 1, "one");
    expect((await cache.get(kv, "down")).ok).toBe(true);
  });
});
