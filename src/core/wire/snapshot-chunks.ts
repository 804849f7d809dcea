/**
 * The partitioned snapshot, layout 4: a small root plus content-addressed chunks, so a change
 * writes (and a warm reader reads) the root and the chunks whose bytes changed, not the environment.
 *
 *     snap:<env>:<version>   the root: {"environment","version","publishedAt","layout":{"v":4,…}}
 *     chunk:<env>:<id>       a chunk: "c", then one line per item: "\n<key> <ordinal, base 36> <JSON>"
 *
 * Flags are grouped into `2^k` buckets by the MurmurHash3 of their key (segments likewise, in
 * buckets of their own); each bucket is one chunk, named by the hash and length of its bytes, so
 * equal content has one name and a name never takes other content. The root lists every bucket's
 * chunk id in bucket order, plus the document's small parts (metadata, evaluators) inline: it
 * names exactly the chunks of its version, and a reader that holds all of them holds that version
 * and nothing else (why a reader never sees half a version: docs/design.md, "Partitioning and
 * scale limits"). Document order is kept by each item's ordinal, so bulk answers and exports are
 * byte for byte what layout 3 gives.
 *
 * A root has no `doc` field: a reader of layout 3 or earlier finds no snapshot in it and keeps its
 * last known good one, so the edge is deployed before the store that writes this layout.
 * @module
 */
import { hash64 } from "../canonical";
import type { DocSource } from "../doc-source";
import type { EnvironmentDoc, Flag, Metadata, Segment } from "../model";
import { murmur3 } from "../murmur3";
import type { Snapshot } from "./kv-layout";
import type { SnapshotRead } from "./snapshot-text";

export const PARTITIONED_LAYOUT = 4;
/** Flags per chunk the bucket count aims at: a one-flag change moves one chunk of about this many. */
export const FLAGS_PER_CHUNK = 32;
export const SEGMENTS_PER_CHUNK = 8;
/** Bucket count caps, so the root (about 20 bytes per bucket) stays under ~100 KB. */
export const MAX_FLAG_BUCKETS = 4096;
export const MAX_SEGMENT_BUCKETS = 1024;

/** The root's `layout`: bucket chunk ids as one space-separated string each (no array of strings to parse). */
export interface RootLayout {
  v: typeof PARTITIONED_LAYOUT;
  flagCount: number;
  segmentCount: number;
  /** Chunk ids of the flag buckets, in bucket order, separated by spaces. */
  flags: string;
  /** Chunk ids of the segment buckets; absent when the document has no `segments` field. */
  segments?: string;
  metadata?: Metadata;
  evaluators?: Record<string, unknown>;
}

/** One bucket's chunk, with what it was made of (so the next commit can reuse it untouched). */
interface Bucket {
  readonly id: string;
  readonly text: string;
  /** The items and ordinals it holds, compared by identity: equal members, equal bytes. */
  readonly members: readonly unknown[];
}

/** A document in the partitioned layout: its root's layout and every chunk it names. */
export interface EncodedChunks {
  readonly layout: RootLayout;
  /** Chunk id → text, exactly the chunks the root names. */
  readonly chunks: ReadonlyMap<string, string>;
  /** Characters of the largest chunk (each must fit one KV value). */
  readonly largest: number;
  readonly flagBuckets: readonly Bucket[];
  readonly segmentBuckets: readonly Bucket[];
}

const CHUNK_MAGIC = "c";
/** Key characters only (KEY_PATTERN): no space or line break, the separators of a chunk line. */
const PACKABLE = /^[A-Za-z0-9_.:-]+$/;

const pow2AtLeast = (n: number, cap: number) => {
  let b = 1;
  while (b < n && b < cap) b *= 2;
  return b;
};
export const bucketCount = (items: number, perChunk: number, cap: number) =>
  pow2AtLeast(Math.ceil(items / perChunk), cap);
/** The bucket of `key` among `buckets` (a power of two). */
export const bucketOfKey = (key: string, buckets: number) => murmur3(key) & (buckets - 1);
/** A chunk's name: the hash and the length of its bytes. */
export const chunkId = (text: string) => `${hash64(text)}${text.length.toString(36)}`;

/** Items grouped into buckets, each bucket in document order: [item, ordinal] pairs flattened. */
function group(items: ReadonlyArray<{ key: string }>, buckets: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: buckets }, () => []);
  items.forEach((item, i) => out[bucketOfKey(item.key, buckets)]!.push(item, i));
  return out;
}

const sameMembers = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function encodeBuckets(
  items: ReadonlyArray<{ key: string }>,
  buckets: number,
  previous: readonly Bucket[] | undefined,
): Bucket[] {
  const reuse = previous?.length === buckets ? previous : undefined;
  return group(items, buckets).map((members, b) => {
    const before = reuse?.[b];
    if (before && sameMembers(before.members, members)) return before;
    let text = CHUNK_MAGIC;
    for (let i = 0; i < members.length; i += 2) {
      const item = members[i] as { key: string };
      text += `\n${item.key} ${(members[i + 1] as number).toString(36)} ${JSON.stringify(item)}`;
    }
    return { id: chunkId(text), text, members };
  });
}

/**
 * `doc` in the partitioned layout, re-encoding only the buckets whose members changed since
 * `previous` (the encoding of the version before, when held): a one-flag change serialises one
 * chunk. Undefined when a key cannot be packed into a chunk line (the store then writes layout 3).
 */
export function encodeChunks(doc: EnvironmentDoc, previous?: EncodedChunks): EncodedChunks | undefined {
  const segments = doc.segments;
  if (!doc.flags.every((f) => PACKABLE.test(f?.key)) || !(segments ?? []).every((s) => PACKABLE.test(s?.key)))
    return undefined;
  const flagBuckets = encodeBuckets(
    doc.flags,
    bucketCount(doc.flags.length, FLAGS_PER_CHUNK, MAX_FLAG_BUCKETS),
    previous?.flagBuckets,
  );
  const segmentBuckets =
    segments === undefined
      ? []
      : encodeBuckets(
          segments,
          bucketCount(segments.length, SEGMENTS_PER_CHUNK, MAX_SEGMENT_BUCKETS),
          previous?.segmentBuckets,
        );
  const chunks = new Map<string, string>();
  let largest = 0;
  for (const b of [...flagBuckets, ...segmentBuckets]) {
    chunks.set(b.id, b.text);
    largest = Math.max(largest, b.text.length);
  }
  const layout: RootLayout = {
    v: PARTITIONED_LAYOUT,
    flagCount: doc.flags.length,
    segmentCount: segments?.length ?? 0,
    flags: flagBuckets.map((b) => b.id).join(" "),
  };
  if (segments !== undefined) layout.segments = segmentBuckets.map((b) => b.id).join(" ");
  if (doc.metadata !== undefined) layout.metadata = doc.metadata;
  if (doc.evaluators !== undefined) layout.evaluators = doc.evaluators;
  return { layout, chunks, largest, flagBuckets, segmentBuckets };
}

/** The root's KV text for `head`. */
export function rootText(head: Omit<Snapshot, "doc">, encoded: EncodedChunks): string {
  const { environment, version, publishedAt } = head;
  return JSON.stringify({ environment, version, publishedAt, layout: encoded.layout });
}

/** A root read from KV: its head, its layout, and the ids of the chunks it names (each once). */
export interface RootRead {
  readonly environment: string;
  readonly version: number;
  readonly publishedAt: string;
  readonly layout: RootLayout;
  readonly chunkIds: readonly string[];
}

const ID = /^[0-9a-f]{16}[0-9a-z]+$/;

/** Reads a root; undefined when `text` is not one (any other layout, or damaged). Never throws. */
export function readRoot(text: string): RootRead | undefined {
  let v: { environment?: unknown; version?: unknown; publishedAt?: unknown; layout?: RootLayout; doc?: unknown };
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const l = v?.layout;
  if (
    typeof v !== "object" ||
    v === null ||
    v.doc !== undefined ||
    !Number.isInteger(v.version) ||
    typeof l !== "object" ||
    l === null ||
    l.v !== PARTITIONED_LAYOUT
  )
    return undefined;
  if (typeof l.flags !== "string" || (l.segments !== undefined && typeof l.segments !== "string")) return undefined;
  if (!Number.isInteger(l.flagCount) || !Number.isInteger(l.segmentCount)) return undefined;
  const ids = [...l.flags.split(" "), ...(l.segments ? l.segments.split(" ") : [])];
  if (!ids.every((id) => ID.test(id))) return undefined;
  return {
    environment: String(v.environment),
    version: v.version as number,
    publishedAt: String(v.publishedAt),
    layout: l,
    chunkIds: [...new Set(ids)],
  };
}

/** One item line of a chunk: where it is, its key and its ordinal. */
interface Line {
  chunk: string;
  at: number;
  key: string;
  ordinal: number;
}

/** Every line of a chunk. */
function linesOf(chunk: string): Line[] {
  const out: Line[] = [];
  for (let at = chunk.indexOf("\n"); at >= 0; at = chunk.indexOf("\n", at + 1)) {
    const k = chunk.indexOf(" ", at + 1);
    const o = chunk.indexOf(" ", k + 1);
    out.push({ chunk, at, key: chunk.slice(at + 1, k), ordinal: parseInt(chunk.slice(k + 1, o), 36) });
  }
  return out;
}

/** The line of `key` in `chunk` (its second one with `again`). */
function findLine(chunk: string | undefined, key: string, again: boolean): Line | undefined {
  if (chunk === undefined || !PACKABLE.test(key)) return undefined;
  const needle = `\n${key} `;
  let at = chunk.indexOf(needle);
  if (again && at >= 0) at = chunk.indexOf(needle, at + 1);
  if (at < 0) return undefined;
  const o = chunk.indexOf(" ", at + needle.length);
  return { chunk, at, key, ordinal: parseInt(chunk.slice(at + needle.length, o), 36) };
}

function itemOf<T>(line: Line | undefined): T | undefined {
  if (!line) return undefined;
  const start = line.chunk.indexOf(" ", line.chunk.indexOf(" ", line.at + 1) + 1) + 1;
  const end = line.chunk.indexOf("\n", start);
  try {
    return JSON.parse(line.chunk.slice(start, end < 0 ? line.chunk.length : end)) as T;
  } catch {
    return undefined;
  }
}

/** All lines of a list of buckets in document order; undefined when the ordinals are not exactly 0..count-1. */
function ordered(chunks: readonly (string | undefined)[], count: number): Line[] | undefined {
  const out: Line[] = new Array(count);
  let seen = 0;
  for (const c of chunks) {
    if (c === undefined) return undefined;
    for (const line of linesOf(c)) {
      if (!(line.ordinal >= 0 && line.ordinal < count) || out[line.ordinal]) return undefined;
      out[line.ordinal] = line;
      seen++;
    }
  }
  return seen === count ? out : undefined;
}

/**
 * The snapshot a root and the texts of the chunks it names (id → text) make; undefined when one
 * is missing or is not a chunk. Items are found through their key's bucket and parsed when asked for.
 */
export function openChunks(root: RootRead, texts: ReadonlyMap<string, string>): SnapshotRead | undefined {
  const { layout } = root;
  const flagChunks = layout.flags.split(" ").map((id) => texts.get(id));
  const segmentChunks = layout.segments ? layout.segments.split(" ").map((id) => texts.get(id)) : [];
  if (![...flagChunks, ...segmentChunks].every((c) => c !== undefined && c.startsWith(CHUNK_MAGIC))) return undefined;
  let flagLines: Line[] | undefined;
  let segmentLines: Line[] | undefined;
  const found = new Map<number, Line>();
  const allFlagLines = () => (flagLines ??= ordered(flagChunks, layout.flagCount) ?? []);
  const allSegmentLines = () => (segmentLines ??= ordered(segmentChunks, layout.segmentCount) ?? []);
  const source: DocSource = {
    get flagKeys() {
      return allFlagLines().map((l) => l.key);
    },
    get segmentKeys() {
      return allSegmentLines().map((l) => l.key);
    },
    findFlag: (key, again = false) => {
      const line = findLine(flagChunks[bucketOfKey(key, flagChunks.length)], key, again);
      if (!line || !(line.ordinal >= 0 && line.ordinal < layout.flagCount)) return -1;
      found.set(line.ordinal, line);
      return line.ordinal;
    },
    flagAt: (i) => itemOf<Flag>(found.get(i) ?? allFlagLines()[i]),
    allFlags: () => allFlagLines().map((l) => itemOf<Flag>(l)),
    segment: (key) =>
      segmentChunks.length === 0
        ? undefined
        : itemOf<Segment>(findLine(segmentChunks[bucketOfKey(key, segmentChunks.length)], key, false)),
    metadata: layout.metadata,
    evaluators: layout.evaluators,
  };
  let doc: EnvironmentDoc | undefined;
  return {
    environment: root.environment,
    version: root.version,
    publishedAt: root.publishedAt,
    layout: PARTITIONED_LAYOUT,
    source,
    // The store's field order (flags, segments, metadata, evaluators), as layout 3's text has it.
    doc: () => {
      if (doc) return doc;
      const flags = allFlagLines();
      if (flags.length !== layout.flagCount) return undefined;
      const d: Record<string, unknown> = { flags: flags.map((l) => itemOf<Flag>(l)) };
      if (layout.segments !== undefined) d.segments = allSegmentLines().map((l) => itemOf<Segment>(l));
      if (layout.metadata !== undefined) d.metadata = layout.metadata;
      if (layout.evaluators !== undefined) d.evaluators = layout.evaluators;
      return (doc = d as unknown as EnvironmentDoc);
    },
  };
}
