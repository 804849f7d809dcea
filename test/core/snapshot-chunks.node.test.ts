/**
 * The partitioned layout (snapshot-chunks.ts): a root plus content-addressed chunks reads back as
 * the document, byte for byte; a one-flag change re-encodes one chunk; and a reader racing a writer
 * (the real SnapshotReader over a KV whose every read lets the writer run some steps) only ever
 * sees a whole version.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc, Flag } from "../../src/core/model";
import { ok } from "../../src/core/result";
import { kvKey } from "../../src/core/wire/kv-layout";
import {
  FLAGS_PER_CHUNK,
  PARTITIONED_LAYOUT,
  encodeChunks,
  openChunks,
  readRoot,
  rootText,
  type EncodedChunks,
} from "../../src/core/wire/snapshot-chunks";
import { SnapshotReader, type KvGet } from "../../src/core/wire/snapshot-reader";

const head = { environment: "big", version: 7, publishedAt: "2026-12-07T10:00:00.000Z" };
const flag = (key: string, extra: Record<string, unknown> = {}) =>
  ({
    key,
    type: "boolean",
    enabled: true,
    variants: { on: true, off: false },
    defaultVariant: "on",
    ...extra,
  }) as unknown as Flag;
const manyFlags = (n: number) =>
  Array.from({ length: n }, (_, i) => flag(`flag-${i}`, { description: `number ${i} \n "quoted" ü` }));

const docArb: fc.Arbitrary<EnvironmentDoc> = fc
  .record({
    keys: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9.:_-]{0,10}$/), { maxLength: 120 }),
    segments: fc.option(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { maxLength: 20 }), {
      nil: undefined,
    }),
    metadata: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
    note: fc.string(),
  })
  .map(({ keys, segments, metadata, note }) => {
    const doc: Record<string, unknown> = { flags: keys.map((k) => flag(k, { description: note })) };
    if (segments) doc.segments = segments.map((key) => ({ key, included: [note, "a b\nc"], excluded: [], rules: [] }));
    if (metadata) doc.metadata = metadata;
    return doc as unknown as EnvironmentDoc;
  });

function open(doc: EnvironmentDoc, previous?: EncodedChunks) {
  const encoded = encodeChunks(doc, previous)!;
  const root = readRoot(rootText(head, encoded))!;
  return { encoded, root, read: openChunks(root, encoded.chunks)! };
}

describe(`partitioned snapshot, layout ${PARTITIONED_LAYOUT}`, () => {
  it("reads back every flag, segment and the whole document byte for byte", () => {
    fc.assert(
      fc.property(docArb, (doc) => {
        const { read, root } = open(doc);
        expect(read.layout).toBe(PARTITIONED_LAYOUT);
        expect(JSON.stringify(read.doc())).toBe(JSON.stringify(doc));
        expect(read.source.flagKeys).toEqual(doc.flags.map((f) => f.key));
        doc.flags.forEach((f, i) => {
          expect(read.source.findFlag(f.key)).toBe(i);
          expect(read.source.flagAt(i)).toEqual(f);
        });
        for (const s of doc.segments ?? []) expect(read.source.segment(s.key)).toEqual(s);
        expect(read.source.findFlag("no-such-flag")).toBe(-1);
        expect(read.source.findFlag("bad key")).toBe(-1);
        expect(root.chunkIds.length).toBeGreaterThan(0);
      }),
    );
  });

  it("a one-flag change re-encodes one chunk and reuses the rest; the root names exactly the new set", () => {
    const flags = manyFlags(10_000);
    const v1 = encodeChunks({ flags, segments: [] })!;
    expect(v1.flagBuckets.length).toBeGreaterThanOrEqual(10_000 / FLAGS_PER_CHUNK);
    const toggled = flags.map((f, i) => (i === 4321 ? { ...f, enabled: false } : f));
    const v2 = encodeChunks({ flags: toggled, segments: [] }, v1)!;
    const fresh = [...v2.chunks.keys()].filter((id) => !v1.chunks.has(id));
    expect(fresh).toHaveLength(1);
    expect(v2.chunks.get(fresh[0]!)!.length).toBeLessThan(16 * 1024);
    const root = rootText(head, v2);
    expect(root.length).toBeLessThan(16 * 1024);
    expect(new Set(readRoot(root)!.chunkIds)).toEqual(new Set(v2.chunks.keys()));
    // The same document encoded from scratch gives the same chunks (names are content).
    expect([...encodeChunks({ flags: toggled, segments: [] })!.chunks.keys()]).toEqual([...v2.chunks.keys()]);
  });

  it("does not open with a chunk missing, and reads no other layout as a root", () => {
    const { encoded, root } = open({ flags: manyFlags(100), segments: [] });
    const partial = new Map(encoded.chunks);
    partial.delete(root.chunkIds[1]!);
    expect(openChunks(root, partial)).toBeUndefined();
    expect(readRoot(JSON.stringify({ ...head, doc: { flags: [] } }))).toBeUndefined();
    expect(readRoot(JSON.stringify({ ...head, layout: { v: 5, flags: "" } }))).toBeUndefined();
    expect(readRoot("{not json")).toBeUndefined();
  });

  it("a reader racing a writer never observes a mixed version", async () => {
    // The writer publishes versions as the store does: new chunks (any order), then the root, then
    // the pointer. Every KV read the reader makes first lets the writer take some steps.
    const versions = fc.array(docArb, { minLength: 2, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(
        versions,
        fc.array(fc.nat(6), { minLength: 40, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        async (docs, pace, orders) => {
          const kv = new Map<string, string>();
          const steps: Array<() => void> = [];
          let previous: EncodedChunks | undefined;
          docs.forEach((doc, i) => {
            const version = i + 1;
            const encoded = encodeChunks(doc, previous)!;
            const fresh = [...encoded.chunks].filter(([id]) => !previous?.chunks.has(id));
            // A writer may put its chunks in any order; only the root and pointer come after them all.
            const shift = orders[i % orders.length]! % Math.max(fresh.length, 1);
            for (const [id, text] of [...fresh.slice(shift), ...fresh.slice(0, shift)])
              steps.push(() => kv.set(kvKey.chunk("race", id), text));
            steps.push(() =>
              kv.set(
                kvKey.snapshot("race", version),
                rootText({ environment: "race", version, publishedAt: "t" }, encoded),
              ),
            );
            steps.push(() => kv.set(kvKey.pointer("race"), JSON.stringify({ version, publishedAt: "t" })));
            previous = encoded;
          });
          let turn = 0;
          const run = (n: number) => {
            for (let i = 0; i < n && steps.length > 0; i++) steps.shift()!();
          };
          const racing: KvGet = {
            get: async (key, type) => {
              run(pace[turn++ % pace.length]!);
              const v = kv.get(key);
              return v === undefined ? null : type === "json" ? JSON.parse(v) : v;
            },
          };
          const t = { now: 0 };
          const reader = new SnapshotReader({ compile: (s) => ok(s), refreshMs: 1, now: () => t.now });
          for (let round = 0; round < 12; round++) {
            t.now += 1;
            const got = await reader.get(racing, "race", round % 3 === 0 ? docs.length : 0);
            if (!got.ok) continue;
            const seen = JSON.stringify(got.snapshot.doc());
            expect(seen).toBe(JSON.stringify(docs[got.snapshot.version - 1]));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
