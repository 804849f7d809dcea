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
 * flag's and segment's key, in document order, and where its line starts, counted from the first
 * character of the second line (where `doc` starts). JSON text never holds a raw line break, so a
 * line ends at the next one.
 *
 * Cheap to read first: the starts are one string of fixed-width base-36 numbers (parsing a string
 * is a copy; 20,000 JSON numbers cost milliseconds), decoded only for the flag asked for.
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
  /** Digits per start in `flagAt` and `segmentAt`. */
  w: number;
  flags: string[];
  /** Where each flag's line starts: `w` base-36 digits per flag. */
  flagAt: string;
  segments: string[];
  segmentAt: string;
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
  const flagKeys: string[] = [], flagStarts: number[] = [], segmentKeys: string[] = [], segmentStarts: number[] = [];
  // Each item on a line of its own, the separating comma ending the line before the next.
  let text = '{"flags":[';
  const list = (items: ReadonlyArray<{ key: string }>, keys: string[], starts: number[]) => {
    for (let i = 0; i < items.length; i++) {
      text += i === 0 ? "\n" : ",\n";
      starts.push(text.length);
      text += JSON.stringify(items[i]);
      keys.push(items[i]!.key);
    }
    text += "\n]";
  };
  list(doc.flags, flagKeys, flagStarts);
  if (doc.segments !== undefined) {
    text += ',"segments":[';
    list(doc.segments, segmentKeys, segmentStarts);
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
  text += "}";
  const w = text.length.toString(36).length;
  const digits = (starts: number[]) => starts.map((n) => n.toString(36).padStart(w, "0")).join("");
  const layout: Layout = { v: SNAPSHOT_LAYOUT, w, flags: flagKeys, flagAt: digits(flagStarts), segments: segmentKeys, segmentAt: digits(segmentStarts) };
  if (metadataAt) layout.metadataAt = metadataAt;
  if (evaluatorsAt) layout.evaluatorsAt = evaluatorsAt;
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
  return typeof l === "object" && l !== null && l.v === SNAPSHOT_LAYOUT && Number.isInteger(l.w) && l.w > 0 &&
    Array.isArray(l.flags) && typeof l.flagAt === "string" && l.flagAt.length === l.w * l.flags.length &&
    Array.isArray(l.segments) && typeof l.segmentAt === "string" && l.segmentAt.length === l.w * l.segments.length &&
    (l.metadataAt === undefined || isPair(l.metadataAt)) && (l.evaluatorsAt === undefined || isPair(l.evaluatorsAt));
}

function fromFragments(text: string, base: number, head: Omit<Snapshot, "doc">, layout: Layout): SnapshotRead {
  const { w } = layout;
  /** The text of item `i` of a list: its line, without the comma that ends all but the last. */
  const line = (starts: string, i: number): string => {
    const start = base + parseInt(starts.slice(i * w, i * w + w), 36);
    const end = text.indexOf("\n", start);
    const t = text.slice(start, end < 0 ? text.length : end);
    return t.endsWith(",") ? t.slice(0, -1) : t;
  };
  let segmentIndex: Map<string, number> | undefined;
  let doc: EnvironmentDoc | undefined;
  const n = layout.flags.length;
  const source: DocSource = {
    flagKeys: layout.flags,
    segmentKeys: layout.segments,
    flagAt: (i) => (i >= 0 && i < n ? (parse(line(layout.flagAt, i)) as Flag | undefined) : undefined),
    allFlags: () => {
      if (n === 0) return [];
      // The flag lines are contiguous: one parse of the whole run, or one per flag if it is off.
      const first = base + parseInt(layout.flagAt.slice(0, w), 36);
      const all = parse(`[${text.slice(first, text.indexOf("\n]", first))}]`) as Flag[] | undefined;
      return Array.isArray(all) && all.length === n ? all : layout.flags.map((_, i) => source.flagAt(i));
    },
    segment: (key) => {
      segmentIndex ??= new Map(layout.segments.map((k, i) => [k, i]));
      const i = segmentIndex.get(key);
      return i === undefined ? undefined : (parse(line(layout.segmentAt, i)) as Segment | undefined);
    },
    metadata: layout.metadataAt ? (parse(text.slice(base + layout.metadataAt[0], base + layout.metadataAt[1])) as Metadata | undefined) : undefined,
    evaluators: layout.evaluatorsAt ? (parse(text.slice(base + layout.evaluatorsAt[0], base + layout.evaluatorsAt[1])) as Record<string, unknown> | undefined) : undefined,
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
