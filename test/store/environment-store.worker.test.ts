import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvironmentStore } from "../../src/store/environment/environment-store";
import {
  E,
  boolFlag,
  must,
  refused,
  answered,
  newStore,
  query,
  rawStub,
  readPointer,
  readSnapshot,
  uniqueName,
  type StoreStub,
} from "./helpers";

describe("EnvironmentStore: environment lifecycle", () => {
  it("create is idempotent and starts at version 1 with an audit row", async () => {
    const { name, stub } = await newStore("life");
    expect(await stub.create(name, "again")).toEqual(answered({ created: false, version: 1 }));
    expect(await stub.info()).toEqual(answered({ name, version: 1, flags: 0, segments: 0 }));
    const history = must(await stub.history({}));
    expect(history.entries).toHaveLength(1);
    expect(history.entries[0]).toMatchObject({ version: 1, actor: "tester", operation: "environment.create" });
    expect(await readPointer(name)).toMatchObject({ version: 1 });
  });

  it("an environment never created answers no_environment to every call but create", async () => {
    const stub = E.ENV_STORE.getByName(uniqueName("ghost")) as unknown as StoreStub;
    expect(await stub.info()).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.getFlag("x")).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.putFlag(boolFlag("x"), "t")).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.destroy("t")).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.republish()).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.mintKey("server", "t")).toMatchObject(refused({ code: "no_environment" }));
    expect(await stub.create("Not A Name!", "t")).toMatchObject(refused({ code: "invalid" }));
  });

  it("destroy removes definitions, revokes keys at the edge, tombstones the pointer; re-create never reuses a version", async () => {
    const { name, stub } = await newStore("destroy");
    must(await stub.putFlag(boolFlag("a"), "t"));
    const minted = must(await stub.mintKey("server", "t"));
    const hash = (await query<{ hash: string }>(stub, "SELECT hash FROM sdk_keys"))[0].hash;
    expect(await E.FLAGS_KV.get(`key:${hash}`, "json")).toMatchObject({ revoked: false, environment: name });

    expect(await stub.destroy("t")).toEqual(answered({ deleted: true }));
    expect(await stub.info()).toMatchObject(refused({ code: "no_environment" }));
    expect(await readPointer(name)).toEqual({ deleted: true, deletedAt: expect.any(String) });
    expect(await E.FLAGS_KV.get(`key:${hash}`, "json")).toMatchObject({ revoked: true });
    expect(await stub.listFlags()).toMatchObject(refused({ code: "no_environment" }));

    const again = must(await stub.create(name, "t"));
    expect(await stub.create("other-name", "t")).toMatchObject(refused({ code: "conflict" }));
    expect(again.created).toBe(true);
    expect(again.version).toBe(3); // 1 create, 2 flag, 3 re-create: snapshot keys stay immutable
    expect(await stub.listFlags()).toEqual(answered([]));
    expect(await stub.listKeys()).toMatchObject(answered([{ id: minted.id, revokedAt: expect.any(String) }]));
  });
});

describe("EnvironmentStore: flags", () => {
  it("put creates then replaces; get returns the version of the last change", async () => {
    const { stub } = await newStore("crud");
    const created = await stub.putFlag(boolFlag("checkout"), "alice");
    expect(created).toMatchObject(
      answered({
        version: 2,
        created: true,
        flag: { key: "checkout", enabled: true, clientVisible: false, version: 2 },
      }),
    );
    await stub.putFlag(boolFlag("other"), "alice");
    const replaced = await stub.putFlag(boolFlag("checkout", { defaultVariant: "on" }), "bob", 2);
    expect(replaced).toMatchObject(
      answered({ version: 4, created: false, flag: { defaultVariant: "on", version: 4 } }),
    );
    expect(await stub.getFlag("checkout")).toMatchObject(answered({ defaultVariant: "on", version: 4 }));
    expect(await stub.getFlag("other")).toMatchObject(answered({ version: 3 }));
    const list = must(await stub.listFlags());
    expect(list.map((f) => f.key)).toEqual(["checkout", "other"]); // definition order survives a replace
    expect(await stub.getFlag("missing")).toMatchObject(refused({ code: "not_found" }));
  });

  it("a stale If-Match answers precondition_failed and changes nothing", async () => {
    const { name, stub } = await newStore("ifmatch");
    await stub.putFlag(boolFlag("f"), "t"); // v2
    await stub.putFlag(boolFlag("f", { defaultVariant: "on" }), "t"); // v3
    const before = await stub.info();
    const stale = await stub.putFlag(boolFlag("f", { enabled: false }), "t", 2);
    expect(stale).toEqual(refused({ code: "precondition_failed", message: expect.any(String), currentVersion: 3 }));
    expect(await stub.deleteFlag("f", "t", 2)).toMatchObject(
      refused({ code: "precondition_failed", currentVersion: 3 }),
    );
    expect(await stub.setFlagEnabled("f", false, "t", 1)).toMatchObject(refused({ code: "precondition_failed" }));
    expect(await stub.putFlag(boolFlag("new"), "t", 5)).toMatchObject(
      refused({ code: "precondition_failed", currentVersion: 0 }),
    );
    expect(await stub.info()).toEqual(before);
    expect(await stub.getFlag("f")).toMatchObject(answered({ enabled: true, version: 3 }));
    expect(await readPointer(name)).toMatchObject({ version: 3 });
  });

  it("delete and toggle honour If-Match and are audited with before/after", async () => {
    const { stub } = await newStore("del");
    await stub.putFlag(boolFlag("f"), "t"); // v2
    const toggled = await stub.setFlagEnabled("f", false, "carol", 2);
    expect(toggled).toMatchObject(answered({ version: 3, flag: { enabled: false, version: 3 } }));
    expect(await stub.deleteFlag("f", "dave", 3)).toEqual(answered({ version: 4 }));
    expect(await stub.getFlag("f")).toMatchObject(refused({ code: "not_found" }));
    expect(await stub.deleteFlag("f", "dave")).toMatchObject(refused({ code: "not_found" }));
    const history = must(await stub.history({}));
    expect(history.entries.slice(0, 2)).toMatchObject([
      {
        version: 4,
        actor: "dave",
        operation: "flag.delete",
        target: "f",
        diff: { before: { key: "f", enabled: false }, after: null },
      },
      {
        version: 3,
        actor: "carol",
        operation: "flag.toggle",
        target: "f",
        diff: { before: { enabled: true }, after: { enabled: false } },
      },
    ]);
  });

  it("100 concurrent conflicting If-Match writes: exactly one wins, versions gapless, one audit row each", async () => {
    const { stub } = await newStore("race");
    const base = must(await stub.putFlag(boolFlag("hot"), "t"));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stub.putFlag(boolFlag("hot", { description: `writer ${i}` }), `w${i}`, base.version),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error.code === "precondition_failed")).toHaveLength(99);
    expect(await stub.info()).toMatchObject(answered({ version: base.version + 1 }));

    // Unconditional concurrent writes all commit, each with its own consecutive version.
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => stub.putFlag(boolFlag(`k${i}`), "t")));
    const versions = many.map((r) => (r.ok ? r.value.version : -1)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => base.version + 2 + i));
    const audit = await query<{ version: number }>(stub, "SELECT version FROM audit ORDER BY version");
    expect(audit.map((r) => r.version)).toEqual(Array.from({ length: base.version + 31 }, (_, i) => i + 1));
  });
});

describe("EnvironmentStore: validation refuses with issues and changes nothing", () => {
  it("schema and compile errors leave version, history, tables and KV untouched", async () => {
    const { name, stub } = await newStore("invalid");
    await stub.putFlag(boolFlag("ok"), "t");
    const before = {
      info: await stub.info(),
      history: await stub.history({}),
      pointer: await readPointer(name),
      flags: await stub.listFlags(),
    };

    const badKey = await stub.putFlag({ ...boolFlag("has space") }, "t");
    expect(badKey).toMatchObject(refused({ code: "invalid", issues: [{ path: "key" }] }));
    const badVariant = await stub.putFlag(boolFlag("x", { defaultVariant: "nope" }), "t");
    expect(badVariant).toMatchObject(refused({ code: "invalid" }));
    const unknownSegment = await stub.putFlag(
      boolFlag("y", { rules: [{ when: { segment: "ghosts" }, serve: { variant: "on" } }] }),
      "t",
    );
    expect(unknownSegment).toMatchObject(refused({ code: "invalid" }));
    if (unknownSegment.ok || unknownSegment.error.code !== "invalid") throw new Error("expected invalid");
    expect(unknownSegment.error.issues.length).toBeGreaterThan(0);
    const duplicate = await stub.replaceAll({ flags: [boolFlag("a"), boolFlag("a")] }, "t", "flagd.import");
    expect(duplicate).toMatchObject(refused({ code: "invalid", issues: [{ path: "flags[1].key" }] }));
    expect(await stub.replaceAll("not a doc", "t", "flagd.import")).toMatchObject(refused({ code: "invalid" }));
    expect(await stub.putFlag(null, "t")).toMatchObject(refused({ code: "invalid" }));

    expect(await stub.info()).toEqual(before.info);
    expect(await stub.history({})).toEqual(before.history);
    expect(await readPointer(name)).toEqual(before.pointer);
    expect(await stub.listFlags()).toEqual(before.flags);
    expect(await query(stub, "SELECT COUNT(*) AS n FROM revisions WHERE kind = 'flag'")).toEqual([{ n: 1 }]);
  });

  it("deleting a segment a flag still uses is refused", async () => {
    const { stub } = await newStore("segref");
    await stub.putSegment({ key: "beta", included: ["u1"] }, "t");
    await stub.putFlag(boolFlag("f", { rules: [{ when: { segment: "beta" }, serve: { variant: "on" } }] }), "t");
    expect(await stub.deleteSegment("beta", "t")).toMatchObject(refused({ code: "invalid" }));
    expect(await stub.getSegment("beta")).toMatchObject(answered({ included: ["u1"] }));
  });
});

describe("EnvironmentStore: whole document", () => {
  it("replaceAll is one version; unchanged items keep their ETag; export returns the document", async () => {
    const { name, stub } = await newStore("replace");
    await stub.putFlag(boolFlag("keep"), "t"); // v2
    await stub.putFlag(boolFlag("drop"), "t"); // v3
    const doc = {
      flags: [boolFlag("new"), boolFlag("keep")],
      segments: [{ key: "s", included: ["a"] }],
      metadata: { team: "growth" },
    };
    expect(await stub.replaceAll(doc, "importer", "flagd.import")).toEqual(answered({ version: 4 }));
    expect(await stub.getFlag("keep")).toMatchObject(answered({ version: 2 }));
    expect(await stub.getFlag("new")).toMatchObject(answered({ version: 4 }));
    expect(await stub.getFlag("drop")).toMatchObject(refused({ code: "not_found" }));
    const exported = must(await stub.exportDoc());
    expect(exported.version).toBe(4);
    expect(exported.doc.flags.map((f) => f.key)).toEqual(["new", "keep"]);
    expect(exported.doc.metadata).toEqual({ team: "growth" });
    expect(exported.doc.segments).toEqual([{ key: "s", included: ["a"], excluded: [], rules: [] }]);
    const history = await stub.history({ limit: 1 });
    expect(history).toMatchObject(
      answered({
        entries: [
          {
            version: 4,
            operation: "flagd.import",
            diff: { flags: { added: ["new"], removed: ["drop"], changed: [] } },
          },
        ],
      }),
    );
    // The published snapshot is the exported document.
    expect((await readSnapshot(name, 4))?.doc).toEqual(exported.doc);
  });

  it("history pages newest first with a next cursor", async () => {
    const { stub } = await newStore("paging");
    for (let i = 0; i < 7; i++) await stub.putFlag(boolFlag(`f${i}`), "t");
    const seen: number[] = [];
    let before: number | undefined;
    for (let page = 0; page < 5; page++) {
      const result = must(await stub.history({ before, limit: 3 }));
      seen.push(...result.entries.map((e) => e.version));
      if (result.next === undefined) break;
      before = result.next;
    }
    expect(seen).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });
});

describe("EnvironmentStore: segments", () => {
  it("a segment of 100,000 keys is stored one row per key, published, and not rewritten when only rules change", async () => {
    const { name, stub } = await newStore("big");
    const included = Array.from({ length: 100_000 }, (_, i) => `user-${i.toString(36).padStart(6, "0")}`);
    const put = await stub.putSegment({ key: "whales", included, excluded: ["user-000000"] }, "t");
    expect(put).toMatchObject(answered({ version: 2, created: true }));
    expect(await query(stub, "SELECT kind, COUNT(*) AS n FROM segment_keys GROUP BY kind ORDER BY kind")).toEqual([
      { kind: "excluded", n: 1 },
      { kind: "included", n: 100_000 },
    ]);
    const got = must(await stub.getSegment("whales"));
    expect(got.included).toEqual(included);
    const snapshot = await readSnapshot(name, 2);
    expect(snapshot?.doc.segments[0].included).toHaveLength(100_000);
    expect(await readPointer(name)).toMatchObject({ version: 2 });

    await stub.putSegment({ key: "whales", included, excluded: ["user-000000"], description: "big spenders" }, "t", 2);
    expect(await query(stub, "SELECT COUNT(*) AS n FROM segment_keys")).toEqual([{ n: 100_001 }]);
    expect(await stub.getSegment("whales")).toMatchObject(answered({ version: 3, description: "big spenders" }));
    const history = await stub.history({ limit: 1 });
    expect(history).toMatchObject(answered({ entries: [{ diff: { after: { included: { count: 100_000 } } } }] }));
  });
});

describe("EnvironmentStore: segments CRUD and reload", () => {
  it("put/get/delete with If-Match, and a store reloaded from SQLite answers the same", async () => {
    const { stub } = await newStore("segcrud");
    const created = await stub.putSegment(
      { key: "beta", included: ["a", "b"], rules: [{ attribute: "plan", op: "equals", values: ["pro"] }] },
      "t",
    );
    expect(created).toMatchObject(
      answered({ version: 2, created: true, segment: { key: "beta", included: ["a", "b"], excluded: [], version: 2 } }),
    );
    expect(await stub.putSegment({ key: "beta", included: ["c"] }, "t", 1)).toMatchObject(
      refused({ code: "precondition_failed", currentVersion: 2 }),
    );
    expect(await stub.putSegment({ key: "beta", included: ["c"] }, "t", 2)).toMatchObject(
      answered({ version: 3, created: false }),
    );
    expect(await stub.putSegment({ key: "bad key", included: [] }, "t")).toMatchObject(refused({ code: "invalid" }));
    await stub.putSegment({ key: "gamma", excluded: ["z"] }, "t");
    await stub.putFlag(boolFlag("f", { rules: [{ when: { segment: "gamma" }, serve: { variant: "on" } }] }), "t");
    await stub.replaceAll(
      {
        flags: [boolFlag("f", { rules: [{ when: { segment: "gamma" }, serve: { variant: "on" } }] })],
        segments: [
          { key: "beta", included: ["c"] },
          { key: "gamma", excluded: ["z"] },
        ],
        metadata: { a: 1 },
      },
      "t",
      "flagd.import",
    );
    const before = await stub.exportDoc();
    const segmentsBefore = await stub.listSegments();
    const explainedBefore = await stub.explain("f", { targetingKey: "z" });

    // Drop the in-memory caches, as an evicted object would: everything must come back from SQLite.
    await runInDurableObject(rawStub(stub), (store: EnvironmentStore) => {
      (store as unknown as { cache?: unknown; compiled?: unknown }).cache = undefined;
      (store as unknown as { cache?: unknown; compiled?: unknown }).compiled = undefined;
    });
    expect(await stub.exportDoc()).toEqual(before);
    expect(await stub.listSegments()).toEqual(segmentsBefore);
    expect(await stub.explain("f", { targetingKey: "z" })).toEqual(explainedBefore);

    expect(await stub.deleteSegment("beta", "t", 2)).toMatchObject(refused({ code: "precondition_failed" }));
    const deleted = await stub.deleteSegment("beta", "t");
    expect(deleted).toMatchObject(answered({ version: expect.any(Number) }));
    expect(await stub.getSegment("beta")).toMatchObject(refused({ code: "not_found" }));
    expect(await stub.deleteSegment("beta", "t")).toMatchObject(refused({ code: "not_found" }));
  });
});
