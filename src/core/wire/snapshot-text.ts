/**
 * The snapshot's KV text, layout 3: per-flag JSON fragments with an index in front, so an edge
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
 * It is still one JSON document with the fields of {@link Snapshot}: an isolate of an earlier
 * deploy (which JSON-parses the whole value and reads `doc`) reads it unchanged, and `layout` is
 * an extra field it ignores. The first line holds no `doc`, so it parses alone; `layout` gives every
 * flag's and segment's key, in document order, and where its line starts, counted from the first
 * character of the second line (where `doc` starts). JSON text never holds a raw line break, so a
 * line ends at the next one.
 *
 * Cheap to read first, because a cold isolate reads it before its first answer: the keys are one
 * string, ` key/ordinal` per item (keys hold no space and no "/", see KEY_PATTERN), searched
 * natively for the key asked for, so parsing it allocates no string per key (layout 2 listed them
 * as a JSON array: 10,000 strings, most of a cold isolate's first answer). The starts are one
 * string of fixed-width base-36 numbers (20,000 JSON numbers cost milliseconds), decoded only for
 * the item asked for.
 *
 * Reading is versioned by content: a value without a layout line (the deploys before layout 2),
 * with layout 2 (the deploy before this one), with layout 1 (what is written when a key cannot be
 * packed) or with a `layout.v` this code does not know, is parsed whole, as before.
 * @module
 */
import { docSource, type DocSource } from "../doc-source";
import type { Snapshot } from "./kv-layout";
import type { EnvironmentDoc, Flag, Metadata, Segment } from "../model";

export const SNAPSHOT_LAYOUT = 3;

/** The layout's small fields: they parse as JSON; the four index strings after them are read in place. */
interface LayoutHead {
  v: number;
  /** Digits per start in `flagAt` and `segmentAt`. */
  w: number;
  flagCount: number;
  segmentCount: number;
  metadataAt?: [number, number];
  evaluatorsAt?: [number, number];
}

/**
 * The index strings, in the order they follow the layout's small fields, each with what precedes
 * its text: `flags` (` key/ordinal` per flag, ordinals in base 36, in document order), `flagAt`
 * (where each flag's line starts: `w` base-36 digits per flag), then the same for segments. They
 * hold only key characters, "/", spaces and digits, none of which JSON escapes, so the reader
 * takes each as a slice of the value (no copy) instead of parsing it.
 */
const INDEX = [',"flags":"', '","flagAt":"', '","segments":"', '","segmentAt":"'] as const;

/** A document serialised in the layout, ready to be put behind a snapshot head. */
export interface EncodedDoc {
  /** The document's JSON, one flag or segment per line. */
  readonly text: string;
  /** The layout's JSON. */
  readonly layout: string;
  /** Characters of both (the published value adds only its small head). */
  readonly length: number;
}

/**
 * A key the packed index can hold: key characters only (every KEY_PATTERN key), so no space or
 * "/" (the separators) and nothing JSON escapes. The class has one quantifier: no backtracking.
 */
const PACKABLE = /^[A-Za-z0-9_.:-]+$/;
const packable = (key: unknown): key is string => typeof key === "string" && PACKABLE.test(key);

/** Layout 1: no index, the value is read whole (for a document whose keys cannot be packed). */
const WHOLE = '{"v":1}';

/**
 * Serialises `doc` and records where each part lies: each flag and segment once, as
 * JSON.stringify(doc) would, with the document's fields in the order the store keeps them
 * (flags, segments, metadata, evaluators).
 */
export function encodeDoc(doc: EnvironmentDoc): EncodedDoc {
  const flagStarts: number[] = [],
    segmentStarts: number[] = [];
  let keysPack = true;
  // Each item on a line of its own, the separating comma ending the line before the next.
  let text = '{"flags":[';
  const list = (items: ReadonlyArray<{ key: string }>, starts: number[]): string => {
    let keys = "";
    for (let i = 0; i < items.length; i++) {
      text += i === 0 ? "\n" : ",\n";
      starts.push(text.length);
      text += JSON.stringify(items[i]);
      const key = items[i]?.key;
      if (packable(key)) keys += ` ${key}/${i.toString(36)}`;
      else keysPack = false;
    }
    text += "\n]";
    return keys;
  };
  const flagKeys = list(doc.flags, flagStarts);
  let segmentKeys = "";
  if (doc.segments !== undefined) {
    text += ',"segments":[';
    segmentKeys = list(doc.segments, segmentStarts);
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
  if (!keysPack) return { text, layout: WHOLE, length: text.length + WHOLE.length };
  const w = text.length.toString(36).length;
  const digits = (starts: number[]) => starts.map((n) => n.toString(36).padStart(w, "0")).join("");
  const head: LayoutHead = { v: SNAPSHOT_LAYOUT, w, flagCount: flagStarts.length, segmentCount: segmentStarts.length };
  if (metadataAt) head.metadataAt = metadataAt;
  if (evaluatorsAt) head.evaluatorsAt = evaluatorsAt;
  const strings = [flagKeys, digits(flagStarts), segmentKeys, digits(segmentStarts)];
  const layout = JSON.stringify(head).slice(0, -1) + INDEX.map((open, i) => open + strings[i]).join("") + '"}';
  return { text, layout, length: text.length + layout.length };
}

const DOC_FIELD = ',"doc":';

/** The KV value of a snapshot: its head, the layout, then the document on the following lines. */
export function snapshotText(head: Omit<Snapshot, "doc">, doc: EncodedDoc): string {
  const { environment, version, publishedAt } = head;
  return (
    JSON.stringify({ environment, version, publishedAt }).slice(0, -1) +
    `,"layout":${doc.layout}${DOC_FIELD}\n${doc.text}}`
  );
}

/** A snapshot read from its KV text: the head at once, the definitions when asked for. */
export interface SnapshotRead {
  readonly environment: string;
  readonly version: number;
  readonly publishedAt: string;
  /** 1: parsed whole (every layout before this one, or an unknown one); 3: fragments; 4: chunks (snapshot-chunks.ts). */
  readonly layout: 1 | typeof SNAPSHOT_LAYOUT | 4;
  readonly source: DocSource;
  /** The whole document (parsed on first call); undefined when the text does not parse. */
  doc(): EnvironmentDoc | undefined;
}

/** Reads a snapshot value; undefined when it is not one. Never throws. */
export function readSnapshot(text: string): SnapshotRead | undefined {
  const indexed = readIndexed(text);
  if (indexed) return indexed;
  const whole = parse(text) as Snapshot | undefined;
  if (!whole || !isHead(whole) || !whole.doc || !Array.isArray(whole.doc.flags)) return undefined;
  return {
    environment: whole.environment,
    version: whole.version,
    publishedAt: whole.publishedAt,
    layout: 1,
    source: docSource(whole.doc),
    doc: () => whole.doc,
  };
}

/**
 * A value of this layout, read from its first line: the head and the layout's small fields parsed,
 * the index strings sliced in place. Undefined for anything else (then read whole).
 */
function readIndexed(text: string): SnapshotRead | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0 || !text.startsWith(DOC_FIELD, nl - DOC_FIELD.length)) return undefined;
  // A raw `,"` never occurs inside a JSON string (its quote would be escaped): this is the field.
  let at = text.indexOf(INDEX[0]);
  if (at < 0 || at > nl) return undefined;
  const head = parse(text.slice(0, at) + "}}") as (Omit<Snapshot, "doc"> & { layout?: LayoutHead }) | undefined;
  if (!head || !isHead(head) || !isLayoutHead(head.layout)) return undefined;
  const strings: string[] = [];
  for (const open of INDEX) {
    if (!text.startsWith(open, at)) return undefined;
    const from = at + open.length;
    at = text.indexOf('"', from);
    if (at < 0 || at > nl) return undefined;
    strings.push(text.slice(from, at));
  }
  if (at + 2 !== nl - DOC_FIELD.length || text[at + 1] !== "}") return undefined;
  const [flags, flagAt, segments, segmentAt] = strings as [string, string, string, string];
  const { w, flagCount, segmentCount } = head.layout;
  if (flagAt.length !== w * flagCount || segmentAt.length !== w * segmentCount) return undefined;
  return fromFragments(text, nl + 1, head, head.layout, { flags, flagAt, segments, segmentAt });
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

function isLayoutHead(v: unknown): v is LayoutHead {
  const l = v as LayoutHead;
  const count = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
  return (
    typeof l === "object" &&
    l !== null &&
    l.v === SNAPSHOT_LAYOUT &&
    Number.isInteger(l.w) &&
    l.w > 0 &&
    count(l.flagCount) &&
    count(l.segmentCount) &&
    (l.metadataAt === undefined || isPair(l.metadataAt)) &&
    (l.evaluatorsAt === undefined || isPair(l.evaluatorsAt))
  );
}

interface Index {
  flags: string;
  flagAt: string;
  segments: string;
  segmentAt: string;
}

/**
 * The ordinal of the item named `key` in a packed key list (` key/ordinal` per item), of its
 * second definition with `again`; -1 when there is none. A key with a separator in it names no item.
 */
function findPacked(keys: string, count: number, key: string, again: boolean): number {
  if (!packable(key)) return -1;
  const needle = ` ${key}/`;
  let at = keys.indexOf(needle);
  if (again && at >= 0) at = keys.indexOf(needle, at + needle.length);
  if (at < 0) return -1;
  const from = at + needle.length;
  const to = keys.indexOf(" ", from);
  const ordinal = parseInt(keys.slice(from, to < 0 ? keys.length : to), 36);
  return ordinal >= 0 && ordinal < count ? ordinal : -1;
}

/** Every key of a packed key list, in order (one string each: for bulk work, not a first answer). */
function unpack(keys: string): string[] {
  if (keys === "") return [];
  return keys
    .slice(1)
    .split(" ")
    .map((item) => item.slice(0, item.lastIndexOf("/")));
}

function fromFragments(
  text: string,
  base: number,
  head: Omit<Snapshot, "doc">,
  layout: LayoutHead,
  index: Index,
): SnapshotRead {
  const { w, flagCount: n } = layout;
  /** The text of item `i` of a list: its line, without the comma that ends all but the last. */
  const line = (starts: string, i: number): string => {
    const start = base + parseInt(starts.slice(i * w, i * w + w), 36);
    const end = text.indexOf("\n", start);
    const t = text.slice(start, end < 0 ? text.length : end);
    return t.endsWith(",") ? t.slice(0, -1) : t;
  };
  let flagKeys: string[] | undefined;
  let segmentKeys: string[] | undefined;
  let doc: EnvironmentDoc | undefined;
  const source: DocSource = {
    get flagKeys() {
      return (flagKeys ??= unpack(index.flags));
    },
    get segmentKeys() {
      return (segmentKeys ??= unpack(index.segments));
    },
    findFlag: (key, again = false) => findPacked(index.flags, n, key, again),
    flagAt: (i) => (i >= 0 && i < n ? (parse(line(index.flagAt, i)) as Flag | undefined) : undefined),
    allFlags: () => {
      if (n === 0) return [];
      // The flag lines are contiguous: one parse of the whole run, or one per flag if it is off.
      const first = base + parseInt(index.flagAt.slice(0, w), 36);
      const all = parse(`[${text.slice(first, text.indexOf("\n]", first))}]`) as Flag[] | undefined;
      return Array.isArray(all) && all.length === n ? all : Array.from({ length: n }, (_, i) => source.flagAt(i));
    },
    segment: (key) => {
      const i = findPacked(index.segments, layout.segmentCount, key, false);
      return i < 0 ? undefined : (parse(line(index.segmentAt, i)) as Segment | undefined);
    },
    metadata: layout.metadataAt
      ? (parse(text.slice(base + layout.metadataAt[0], base + layout.metadataAt[1])) as Metadata | undefined)
      : undefined,
    evaluators: layout.evaluatorsAt
      ? (parse(text.slice(base + layout.evaluatorsAt[0], base + layout.evaluatorsAt[1])) as
          | Record<string, unknown>
          | undefined)
      : undefined,
  };
  return {
    environment: head.environment,
    version: head.version,
    publishedAt: head.publishedAt,
    layout: SNAPSHOT_LAYOUT,
    source,
    doc: () => (doc ??= parse(text.slice(base, -1)) as EnvironmentDoc | undefined),
  };
}
