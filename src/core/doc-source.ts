/**
 * Where a lazy compile (lazy-compile.ts) reads definitions from: an EnvironmentDoc already in
 * memory, or a snapshot's KV text (core/wire/snapshot-text.ts) that parses a flag or a segment only when
 * it is first asked for.
 * @module
 */
import type { EnvironmentDoc, Flag, Metadata, Segment } from "./model";

export interface DocSource {
  /**
   * Flag keys in definition order, known without parsing any flag. A snapshot's text makes this
   * list on first use (a string per key): to find one key, use {@link findFlag}.
   */
  readonly flagKeys: readonly unknown[];
  readonly segmentKeys: readonly unknown[];
  /**
   * Where the first definition named `key` is in `flagKeys` (the second one with `again`); -1
   * when there is none. Needs no list of every key.
   */
  findFlag(key: string, again?: boolean): number;
  /** The definition at `index` of `flagKeys`; undefined when its text does not parse. */
  flagAt(index: number): Flag | undefined;
  /** Every definition in `flagKeys` order, read in one go (bulk evaluation needs them all). */
  allFlags(): ReadonlyArray<Flag | undefined>;
  /** The segment named `key`; undefined when there is none or its text does not parse. */
  segment(key: string): Segment | undefined;
  readonly metadata: Metadata | undefined;
  readonly evaluators: Record<string, unknown> | undefined;
}

/** A document in memory as a source (a snapshot in the layout before per-flag fragments, tests). */
export function docSource(doc: EnvironmentDoc): DocSource {
  const flags: Flag[] = Array.isArray(doc?.flags) ? doc.flags : [];
  const segments: Segment[] = Array.isArray(doc?.segments) ? doc.segments : [];
  let byKey: Map<string, Segment> | undefined;
  const flagKeys = flags.map((f) => f?.key);
  return {
    flagKeys,
    segmentKeys: segments.map((s) => s?.key),
    findFlag: (key, again = false) => {
      const i = flagKeys.indexOf(key);
      return again && i >= 0 ? flagKeys.indexOf(key, i + 1) : i;
    },
    flagAt: (i) => flags[i],
    allFlags: () => flags,
    segment: (key) => (byKey ??= new Map(segments.map((s) => [s?.key, s]))).get(key),
    metadata: doc?.metadata,
    evaluators: doc?.evaluators,
  };
}
