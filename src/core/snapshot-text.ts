/**
 * The snapshot's KV text, layout 2: per-flag JSON fragments with an index in front, so an edge
 * isolate can parse the one flag it is asked for instead of the whole environment.
 *
 *     {"environment":"prod","version":7,"publishedAt":"…","layout":{…},"doc":
 *     {"flags":[
 *     {…flag…},
 *     {…flag…}
 *     ],"segments":[
 *     {…segment…}
 *     ],"metadata":{…},"evaluators":{…}}}
 *
 * It is still one JSON document with the fields of {@link Snapshot}: an isolate of the previous
 * deploy (which JSON-parses the whole value and reads `doc`) reads it unchanged, and `layout` is
 * an extra field it ignores. The first line holds no `doc`, so it parses alone; `layout` gives every
 * flag's and segment's key, in document order, and the [start, end) of its text counted from the
 * first character of the second line (where `doc` starts).
 *
 * Reading is versioned by content: a value without a layout line (published by the deploy before
 * this layout), or with a `layout.v` this code does not know, is parsed whole as before.
 * @module
 */
import { docSource, type DocSource } from "./doc-source";
import type { Snapshot } from "./kv-contract";
import type { EnvironmentDoc, Flag, Metadata, Segment } from "./model";

export const SNAPSHOT_LAYOUT = 2;

interface Layout {
  v: number;
  flags: string[];
  /** Two numbers per flag: start and end of its text. */
  flagAt: number[];
  segments: string[];
  segmentAt: number[];
  metadataAt?: [number, number];
  evaluatorsAt?: [number, number];
}

/** A document serialised in layout 2, ready to be put behind a snapshot head. */
export interface EncodedDoc {
  /** The document's JSON, one flag or segment per line. */
  readonly text: string;
  /** The layout's JSON. */
  readonly layout: string;
  /** Characters of both (the published value adds only its small head). */
  readonly length: number;
}

/**
 * Serialises `doc` and records where each part lies: each flag and segment once, as
 * JSON.stringify(doc) would, with the document's fields in the order the store keeps them
 * (flags, segments, metadata, evaluators).
 */
export function encodeDoc(doc: EnvironmentDoc): EncodedDoc {
  const layout: Layout = { v: SNAPSHOT_LAYOUT, flags: [], flagAt: [], segments: [], segmentAt: [] };
  let text = '{"flags":[';
  const list = (items: ReadonlyArray<{ key: string }>, keys: string[], at: number[]) => {
    for (let i = 0; i < items.length; i++) {
      text += i === 0 ? "\n" : ",\n";
      const start = text.length;
      text += JSON.stringify(items[i]);
      keys.push(items[i]!.key);
      at.push(start, text.length);
    }
    text += "\n]";
  };
  list(doc.flags, layout.flags, layout.flagAt);
  if (doc.segments !== undefined) {
    text += ',"segments":[';
    list(doc.segments, layout.segments, layout.segmentAt);
  }
  const part = (name: "metadata" | "evaluators", value: unknown): [number, number] | undefined => {
    if (value === undefined) return undefined;
    text += `,"${name}":`;
    const start = text.length;
    text += JSON.stringify(value);
    return [start, text.length];
  };
  const metadataAt = part("metadata", doc.metadata);
  const evaluatorsAt = part("evaluators", doc.evaluators);
  if (metadataAt) layout.metadataAt = metadataAt;
  if (evaluatorsAt) layout.evaluatorsAt = evaluatorsAt;
  text += "}";
  const layoutJson = JSON.stringify(layout);
  return { text, layout: layoutJson, length: text.length + layoutJson.length };
}

const DOC_FIELD = ',"doc":';

/** The KV value of a snapshot: its head, the layout, then the document on the following lines. */
export function snapshotText(head: Omit<Snapshot, "doc">, doc: EncodedDoc): string {
  const { environment, version, publishedAt } = head;
  return JSON.stringify({ environment, version, publishedAt }).slice(0, -1) + `,"layout":${doc.layout}${DOC_FIELD}\n${doc.text}}`;
}

/** A snapshot read from its KV text: the head at once, the definitions when asked for. */
export interface SnapshotRead {
  readonly environment: string;
  readonly version: number;
  readonly publishedAt: string;
  /** 1: parsed whole (the layout before fragments); 2: fragments. */
  readonly layout: 1 | 2;
  readonly source: DocSource;
  /** The whole document (parsed on first call); undefined when the text does not parse. */
  doc(): EnvironmentDoc | undefined;
}

/** Reads a snapshot value; undefined when it is not one. Never throws. */
export function readSnapshot(text: string): SnapshotRead | undefined {
  const nl = text.indexOf("\n");
  if (nl > 0 && text.startsWith(DOC_FIELD, nl - DOC_FIELD.length)) {
    const head = parse(text.slice(0, nl - DOC_FIELD.length) + "}") as (Omit<Snapshot, "doc"> & { layout?: Layout }) | undefined;
    if (head && isHead(head) && isLayout(head.layout)) return fromFragments(text, nl + 1, head, head.layout);
  }
  const whole = parse(text) as Snapshot | undefined;
  if (!whole || !isHead(whole) || !whole.doc || !Array.isArray(whole.doc.flags)) return undefined;
  return { environment: whole.environment, version: whole.version, publishedAt: whole.publishedAt, layout: 1, source: docSource(whole.doc), doc: () => whole.doc };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHead(v: Omit<Snapshot, "doc">): boolean {
  return typeof v === "object" && v !== null && Number.isInteger(v.version);
}

const isPair = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every(Number.isInteger);

function isLayout(v: unknown): v is Layout {
  const l = v as Layout;
  return typeof l === "object" && l !== null && l.v === SNAPSHOT_LAYOUT &&
    Array.isArray(l.flags) && Array.isArray(l.flagAt) && l.flagAt.length === 2 * l.flags.length &&
    Array.isArray(l.segments) && Array.isArray(l.segmentAt) && l.segmentAt.length === 2 * l.segments.length &&
    (l.metadataAt === undefined || isPair(l.metadataAt)) && (l.evaluatorsAt === undefined || isPair(l.evaluatorsAt));
}

function fromFragments(text: string, base: number, head: Omit<Snapshot, "doc">, layout: Layout): SnapshotRead {
  const at = (offsets: readonly number[], i: number) => text.slice(base + offsets[2 * i]!, base + offsets[2 * i + 1]!);
  let segmentIndex: Map<string, number> | undefined;
  let doc: EnvironmentDoc | undefined;
  const n = layout.flags.length;
  const source: DocSource = {
    flagKeys: layout.flags,
    segmentKeys: layout.segments,
    flagAt: (i) => (i >= 0 && i < n ? (parse(at(layout.flagAt, i)) as Flag | undefined) : undefined),
    allFlags: () => {
      if (n === 0) return [];
      // The flag lines are contiguous: one parse of the whole run, or one per flag if it is off.
      const all = parse(`[${text.slice(base + layout.flagAt[0]!, base + layout.flagAt[2 * n - 1]!)}]`) as Flag[] | undefined;
      return Array.isArray(all) && all.length === n ? all : layout.flags.map((_, i) => source.flagAt(i));
    },
    segment: (key) => {
      segmentIndex ??= new Map(layout.segments.map((k, i) => [k, i]));
      const i = segmentIndex.get(key);
      return i === undefined ? undefined : (parse(at(layout.segmentAt, i)) as Segment | undefined);
    },
    metadata: layout.metadataAt ? (parse(at(layout.metadataAt, 0)) as Metadata | undefined) : undefined,
    evaluators: layout.evaluatorsAt ? (parse(at(layout.evaluatorsAt, 0)) as Record<string, unknown> | undefined) : undefined,
  };
  return {
    environment: head.environment,
    version: head.version,
    publishedAt: head.publishedAt,
    layout: 2,
    source,
    doc: () => (doc ??= parse(text.slice(base, -1)) as EnvironmentDoc | undefined),
  };
}
