/**
 * Where a lazy compile (lazy-compile.ts) reads definitions from: an EnvironmentDoc already in
 * memory, or a snapshot's KV text (snapshot-text.ts) that parses a flag or a segment only when
 * it is first asked for.
 * @module
 */
import type { EnvironmentDoc, Flag, Metadata, Segment } from "./model";

export interface DocSource {
  /** Flag keys in definition order, known without parsing any flag. */
  readonly flagKeys: readonly unknown[];
  readonly segmentKeys: readonly unknown[];
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
  return {
    flagKeys: flags.map((f) => f?.key),
    segmentKeys: segments.map((s) => s?.key),
    flagAt: (i) => flags[i],
    allFlags: () => flags,
    segment: (key) => (byKey ??= new Map(segments.map((s) => [s?.key, s]))).get(key),
    metadata: doc?.metadata,
    evaluators: doc?.evaluators,
  };
}
