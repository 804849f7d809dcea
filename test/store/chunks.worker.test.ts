/**
 * Partitioned publishing from the store: chunks no remaining root names are deleted once the roots
 * that named them are (a chunk named again is kept or put back), and a write answers once its
 * chunks and root are in KV, before its pointer, and is served by the local edge within the second.
 */
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import { kvKey } from "../../src/core/wire/kv-layout";
import { readRoot } from "../../src/core/wire/snapshot-chunks";
import { eventually } from "../support/eventually";
import { E, boolFlag, must, newStore, query, rawStub, readPointer, readSnapshot, type StoreStub } from "./helpers";

/** Chunk ids of `name` in KV. */
async function chunksInKv(name: string): Promise<string[]> {
  const listed = await E.FLAGS_KV.list({ prefix: `chunk:${name}:` });
  return listed.keys.map((k) => k.name.slice(`chunk:${name}:`.length)).sort();
}

const graceOff = (stub: StoreStub) =>
  runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
    store.snapshots.graceMs = 0;
  });

/** Runs the alarm until `check` holds (it may also fire on its own). */
const alarmUntil = (stub: StoreStub, check: () => Promise<boolean>) =>
  eventually(async () => {
    await runDurableObjectAlarm(rawStub(stub));
    return check();
  }, 10_000);

describe("chunk garbage collection", () => {
  it("keeps every chunk a root in KV names; deletes the rest once their roots are gone", async () => {
    const { name, stub } = await newStore("chunk-gc");
    // Under 32 flags the flags are one bucket: every change makes a new flag chunk and retires one
    // (the empty segment bucket's chunk stays named throughout).
    for (const key of ["a", "b", "c"]) must(await stub.putFlag(boolFlag(key), "t"));
    const last = must(await stub.info()).version;
    const current = [...readRoot((await E.FLAGS_KV.get(kvKey.snapshot(name, last), "text"))!)!.chunkIds].sort();
    expect(current).toHaveLength(2);
    const before = await chunksInKv(name);
    // One per put, plus the empty bucket's chunk (the empty document's flags, and the segments throughout).
    expect(before).toHaveLength(4);
    const live = await query<{ id: string }>(stub, `SELECT id FROM chunks WHERE retired IS NULL ORDER BY id`);
    expect(live.map((r) => r.id)).toEqual(current);

    await graceOff(stub);
    await alarmUntil(stub, async () => (await chunksInKv(name)).length === 2);
    // What is left is exactly what the current root names, and it reads back whole.
    expect(await chunksInKv(name)).toEqual(current);
    expect(await readSnapshot(name, last)).toMatchObject({
      doc: { flags: [{ key: "a" }, { key: "b" }, { key: "c" }] },
    });
    expect(await query(stub, `SELECT id FROM chunks`)).toHaveLength(2);
  });

  it("a chunk named again (a change undone) is kept, or put back after it was deleted", async () => {
    const { name, stub } = await newStore("chunk-revive");
    must(await stub.putFlag(boolFlag("x"), "t"));
    const named = async (version: number) =>
      readRoot((await E.FLAGS_KV.get(kvKey.snapshot(name, version), "text"))!)!.chunkIds;
    const on = await named(must(await stub.info()).version);
    must(await stub.setFlagEnabled("x", false, "t"));
    await graceOff(stub);
    await alarmUntil(stub, async () => (await chunksInKv(name)).length === 2);
    expect(await chunksInKv(name)).not.toContain(on[0]);
    // Back to the bytes of the first version: the same chunk name, deleted above, is put again.
    const back = must(await stub.setFlagEnabled("x", true, "t"));
    expect(await named(back.version)).toEqual(on);
    expect(await chunksInKv(name)).toContain(on[0]);
    await alarmUntil(stub, async () => (await chunksInKv(name)).length === 2);
    expect(await readSnapshot(name, back.version)).toMatchObject({ doc: { flags: [{ key: "x", enabled: true }] } });
  });
});

describe("writes answer at commit", () => {
  it("answers before its pointer is written, then the local edge serves it within the second", async () => {
    // The pointer slot is 600 ms: the second write lands well inside the first one's slot.
    const { name, stub } = await newStore("answer-first", 600);
    must(await stub.putFlag(boolFlag("f", { enabled: true, defaultVariant: "off" }), "t"));
    const key = must(await stub.mintKey("server", "t")).key;
    const evaluate = async () => {
      const r = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags/f", {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: '{"context":{}}',
      });
      return (await r.json()) as { value?: unknown };
    };
    await eventually(async () => (await evaluate()).value === false, 5_000);

    const started = Date.now();
    const put = must(await stub.putFlag(boolFlag("f", { enabled: true, defaultVariant: "on" }), "t"));
    const answeredAt = Date.now();
    // Answered: its root and chunks are in KV, its pointer not yet.
    expect((await readPointer(name))!.version).toBeLessThan(put.version);
    expect(await readSnapshot(name, put.version)).toMatchObject({
      version: put.version,
      doc: { flags: [{ key: "f", defaultVariant: "on" }] },
    });
    expect(answeredAt - started).toBeLessThan(600);
    // Served by the local edge within the local second (pointer slot, then the 0.25 s refresh).
    await eventually(async () => (await evaluate()).value === true, 1_000);
    expect((await readPointer(name))!.version).toBe(put.version);
  });

  it("serial single-flag writes with a 1 s pointer interval run at well over 20 per second", async () => {
    const { name, stub } = await newStore("serial", 1_000);
    must(await stub.putFlag(boolFlag("g"), "t"));
    const n = 20;
    const started = Date.now();
    let last = 0;
    for (let i = 0; i < n; i++) last = must(await stub.setFlagEnabled("g", i % 2 === 0, "t")).version;
    const perSecond = n / ((Date.now() - started) / 1000);
    expect(perSecond).toBeGreaterThan(20);
    // Coalesced: the pointer ends on the last version.
    await eventually(async () => (await readPointer(name))?.version === last, 5_000);
  });
});
