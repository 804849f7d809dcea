/**
 * The snapshot's KV text (snapshot-text.ts): every part reads back as written, the whole value is
 * still the JSON document a reader of an earlier layout parses, and values of the earlier layouts
 * (or an unknown later one) are read whole.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EnvironmentDoc } from "../../src/core/model";
import { SNAPSHOT_LAYOUT, encodeDoc, readSnapshot, snapshotText } from "../../src/core/wire/snapshot-text";

const head = { environment: "prod", version: 42, publishedAt: "2026-12-03T17:00:00.000Z" };
// Strings that could confuse a reader looking for line breaks or the doc field.
const tricky = fc.oneof(fc.string(), fc.constantFrom(',"doc":\n', "\n", "\u2028\u2029", "😀 ünï", '"}]', "\\n"));
const json = fc.oneof(
  tricky,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(tricky),
  fc.dictionary(tricky, tricky),
);

const docGen: fc.Arbitrary<EnvironmentDoc> = fc.record(
  {
    flags: fc
      .uniqueArray(
        fc.record({
          key: fc.stringMatching(/^[a-z][a-z0-9.:_-]{0,12}$/),
          description: tricky,
          variants: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), json),
        }),
        { selector: (f) => f.key, maxLength: 8 },
      )
      .map((flags) => flags.map((f) => ({ ...f, type: "object" as const, enabled: true, clientVisible: false }))),
    segments: fc.uniqueArray(
      fc.record({
        key: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
        description: tricky,
        included: fc.array(tricky, { maxLength: 5 }),
        excluded: fc.array(tricky, { maxLength: 2 }),
        rules: fc.constant([]),
      }),
      { selector: (s) => s.key, maxLength: 4 },
    ),
    metadata: fc.option(fc.dictionary(tricky, fc.oneof(tricky, fc.integer(), fc.boolean())), { nil: undefined }),
    evaluators: fc.option(fc.dictionary(tricky, json), { nil: undefined }),
  },
  { requiredKeys: ["flags", "segments"] },
);

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe(`snapshot text, layout ${SNAPSHOT_LAYOUT}`, () => {
  it("reads every flag, segment and document part back as written, and parses whole as the earlier layout's readers expect", () => {
    fc.assert(
      fc.property(docGen, (doc) => {
        const text = snapshotText(head, encodeDoc(doc));
        // A reader of the earlier layout: JSON.parse, then the Snapshot fields.
        const whole = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(whole)).toEqual(["environment", "version", "publishedAt", "layout", "doc"]);
        expect(whole.doc).toEqual(roundTrip(doc));
        expect(JSON.stringify(whole.doc)).toBe(JSON.stringify(doc));

        const read = readSnapshot(text)!;
        expect(read).toMatchObject({ ...head, layout: SNAPSHOT_LAYOUT });
        expect(read.source.flagKeys).toEqual(doc.flags.map((f) => f.key));
        expect(read.source.segmentKeys).toEqual(doc.segments.map((s) => s.key));
        doc.flags.forEach((f, i) => {
          expect(read.source.findFlag(f.key)).toBe(i);
          expect(read.source.findFlag(f.key, true)).toBe(-1);
          expect(read.source.flagAt(i)).toEqual(roundTrip(f));
        });
        expect(read.source.allFlags()).toEqual(roundTrip(doc.flags));
        for (const s of doc.segments) expect(read.source.segment(s.key)).toEqual(roundTrip(s));
        expect(read.source.segment("not-a-segment-key!")).toBeUndefined();
        expect(read.source.metadata).toEqual(doc.metadata === undefined ? undefined : roundTrip(doc.metadata));
        expect(read.source.evaluators).toEqual(doc.evaluators === undefined ? undefined : roundTrip(doc.evaluators));
        // The snapshot route serialises the whole document: the same bytes as before the layout.
        expect(JSON.stringify(read.doc())).toBe(JSON.stringify(doc));
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it("keeps its index and document apart: the first line is the head, each flag one line", () => {
    const doc: EnvironmentDoc = {
      flags: [
        { key: "a", type: "boolean", variants: { on: true }, enabled: true, clientVisible: false },
        { key: "b", type: "boolean", variants: { on: true }, enabled: true, clientVisible: false },
      ],
      segments: [],
    };
    const lines = snapshotText(head, encodeDoc(doc)).split("\n");
    expect(lines[0]).toMatch(
      /^\{"environment":"prod","version":42,"publishedAt":"[^"]+","layout":\{"v":3,.*\},"doc":$/,
    );
    // The keys are one string, not a list: reading the index allocates no string per key.
    expect(JSON.parse(lines[0]!.slice(0, -',"doc":'.length) + "}").layout).toMatchObject({
      flagCount: 2,
      flags: " a/0 b/1",
    });
    expect(lines.slice(1)).toEqual([
      '{"flags":[',
      `${JSON.stringify(doc.flags[0])},`,
      JSON.stringify(doc.flags[1]),
      '],"segments":[',
      "]}}",
    ]);
  });
});

describe("finding a flag in the packed key list", () => {
  const flag = (key: string) => ({
    key,
    type: "boolean" as const,
    variants: { on: true },
    enabled: true,
    clientVisible: false,
  });
  // 40 flags: ordinals past 9 and 35 take more base-36 digits than one.
  const keys = ["a", "a.b", "a-1", "b:c", ...Array.from({ length: 36 }, (_, i) => `k${i}`)];
  const read = readSnapshot(
    snapshotText(
      head,
      encodeDoc({
        flags: [...keys.map(flag), flag("a-1")],
        segments: [{ key: "s", included: ["u"], excluded: [], rules: [] }],
      }),
    ),
  )!;

  it("finds each key exactly, and the second definition of a key defined twice", () => {
    expect(read.layout).toBe(SNAPSHOT_LAYOUT);
    keys.forEach((k, i) => expect(read.source.findFlag(k)).toBe(i));
    expect(read.source.findFlag("a-1", true)).toBe(keys.length);
    expect(read.source.flagAt(keys.length)).toEqual(flag("a-1"));
    expect(read.source.segment("s")).toMatchObject({ key: "s" });
  });

  it("finds nothing for a prefix, a suffix, or a key that spells part of the index", () => {
    for (const k of ["", "k", "k3 ", " a", "a/", "a/0", "a/0 a.b", "b", "c", "k35/z", "k1/1 k2", "s", "/", " "]) {
      expect(read.source.findFlag(k), JSON.stringify(k)).toBe(-1);
    }
    expect(read.source.segment("s/0")).toBeUndefined();
    expect(read.source.segment("a")).toBeUndefined();
  });
});

describe("a document whose keys the index cannot hold", () => {
  it("is published as layout 1 and read whole, as every reader does", () => {
    for (const key of ["has space", "has/slash", ""]) {
      const doc = {
        flags: [{ key, type: "boolean" as const, variants: { on: true }, enabled: true, clientVisible: false }],
        segments: [],
      } as EnvironmentDoc;
      const text = snapshotText(head, encodeDoc(doc));
      expect(JSON.parse(text)).toMatchObject({ layout: { v: 1 }, doc: roundTrip(doc) });
      const read = readSnapshot(text)!;
      expect(read.layout).toBe(1);
      expect(read.source.findFlag(key)).toBe(0);
      expect(read.source.flagAt(0)).toEqual(doc.flags[0]);
    }
  });
});

describe("snapshot text of the earlier layout, and of an unknown one", () => {
  const doc: EnvironmentDoc = {
    flags: [
      { key: "x", type: "string", variants: { a: "A" }, defaultVariant: "a", enabled: true, clientVisible: true },
    ],
    segments: [{ key: "s", included: ["u"], excluded: [], rules: [] }],
    metadata: { team: "t" },
  };

  it("reads a value published before the layout (one JSON line) whole", () => {
    const read = readSnapshot(JSON.stringify({ ...head, doc }))!;
    expect(read).toMatchObject({ ...head, layout: 1 });
    expect(read.source.flagKeys).toEqual(["x"]);
    expect(read.source.flagAt(0)).toEqual(doc.flags[0]);
    expect(read.source.segment("s")).toEqual(doc.segments[0]);
    expect(read.source.metadata).toEqual({ team: "t" });
    expect(read.doc()).toEqual(doc);
  });

  it("reads a value of layout 2 (the deploy before layout 3: keys as a JSON array) whole", () => {
    const encoded = encodeDoc(doc);
    const layout2 = {
      v: 2,
      w: 2,
      flags: ["x"],
      flagAt: "0b",
      segments: ["s"],
      segmentAt: "2t",
      metadataAt: [100, 110],
    };
    const text = JSON.stringify({ ...head, layout: layout2 }).slice(0, -1) + ',"doc":\n' + encoded.text + "}";
    const read = readSnapshot(text)!;
    expect(read).toMatchObject({ ...head, layout: 1 });
    expect(read.source.findFlag("x")).toBe(0);
    expect(read.source.flagAt(0)).toEqual(doc.flags[0]);
    expect(read.source.segment("s")).toEqual(doc.segments[0]);
    expect(read.doc()).toEqual(doc);
  });

  it("reads a later layout version it does not know whole, through its doc field", () => {
    const text = snapshotText(head, encodeDoc(doc)).replace('"layout":{"v":3,', '"layout":{"v":4,');
    const read = readSnapshot(text)!;
    expect(read.layout).toBe(1);
    expect(read.source.flagAt(0)).toEqual(doc.flags[0]);
  });

  it("is not a snapshot: no version, no doc, or not JSON", () => {
    expect(readSnapshot("not json")).toBeUndefined();
    expect(readSnapshot(JSON.stringify({ environment: "e", doc }))).toBeUndefined();
    expect(readSnapshot(JSON.stringify({ ...head }))).toBeUndefined();
    expect(readSnapshot('{"version":1,"layout":{"v":2},"doc":\n{"flags":[]}}')?.layout).toBe(1);
  });
});
