import { describe, expect, it } from "vitest";
import { ok } from "../../src/core/result";
import { kvKey } from "../../src/core/wire/kv-layout";
import { SnapshotReader, type KvGet } from "../../src/core/wire/snapshot-reader";
import { putSnapshot } from "../support/kv-snapshot";

// The reader outside workerd: a Map behind the one-method KV interface, a test clock, and a
// compile that keeps only the version (the edge's compiler is exercised by the route tests).
class MapKv implements KvGet {
  readonly values = new Map<string, string>();
  readonly reads: string[] = [];
  down = false;
  put = async (key: string, value: string) => {
    this.values.set(key, value);
  };
  get = async (key: string, type: "text" | "json") => {
    this.reads.push(key);
    if (this.down) throw new Error("KV down");
    const v = this.values.get(key);
    return v === undefined ? null : type === "json" ? JSON.parse(v) : v;
  };
}

const doc = (marker: string) => ({ flags: [], segments: [], metadata: { marker } });

describe("SnapshotReader (core, any KV-get)", () => {
  it("reads pointer then snapshot, holds it for the interval, keeps last-known-good when KV fails", async () => {
    const kv = new MapKv();
    const t = { now: 1_000 };
    const reader = new SnapshotReader({ compile: (s) => ok(s.version), refreshMs: 1_000, now: () => t.now });
    await putSnapshot(kv, "r1", 1, doc("one"));
    const a = await reader.get(kv, "r1");
    expect(a.ok && a.snapshot.compiled).toBe(1);
    // The pointer, the root, then its one chunk (a document this small is one bucket).
    expect(kv.reads).toEqual([kvKey.pointer("r1"), kvKey.snapshot("r1", 1), expect.stringMatching(/^chunk:r1:/)]);
    await putSnapshot(kv, "r1", 2, doc("two"));
    t.now += 999;
    expect((await reader.get(kv, "r1")).ok && kv.reads.length).toBe(3);
    t.now += 1;
    const b = await reader.get(kv, "r1");
    expect(b.ok && b.snapshot.doc()?.metadata).toEqual({ marker: "two" });
    kv.down = true;
    t.now += 1_000;
    const c = await reader.get(kv, "r1");
    expect(c.ok && [c.snapshot.version, c.snapshot.stale]).toEqual([2, true]);
  });

  it("drops what it holds only for the store's tombstone", async () => {
    const kv = new MapKv();
    const t = { now: 1_000 };
    const reader = new SnapshotReader({ compile: (s) => ok(s.version), refreshMs: 10, now: () => t.now });
    await putSnapshot(kv, "r2", 3, doc("three"));
    expect((await reader.get(kv, "r2")).ok).toBe(true);
    kv.values.delete(kvKey.pointer("r2"));
    t.now += 10;
    expect(await reader.get(kv, "r2")).toMatchObject({ ok: true, snapshot: { version: 3, stale: true } });
    await kv.put(kvKey.pointer("r2"), JSON.stringify({ deleted: true, deletedAt: "t" }));
    t.now += 10;
    expect(await reader.get(kv, "r2")).toMatchObject({ ok: false, reason: "none" });
  });
});
