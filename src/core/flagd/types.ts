/**
 * The flagd flag-definition document (https://flagd.dev/schema/v0/flags.json) as edgeflags reads
 * and writes it, plus the names of the namespaced extension keys that carry edgeflags-only
 * features through a flagd document unchanged.
 * @module
 */
import type { Metadata } from "../model";
import type { FLAGD_STATES } from "../wire/dto/flagd";

export type { FlagdDocument, FlagdFlag } from "../wire/dto/flagd";
export type FlagdState = (typeof FLAGD_STATES)[number];
export type FlagdMetadata = Metadata;

export const FLAGD_SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json";

/**
 * Flag metadata keys that export writes and import reads back (and strips), so that what flagd
 * cannot express survives export → import. Values are scalars, as flagd metadata requires: lists
 * and objects are JSON-encoded strings.
 */
export const EXT = {
  /** boolean, written only when true. */
  clientVisible: "edgeflags.clientVisible",
  description: "edgeflags.description",
  /** Lifecycle kind (lifecycle.ts), written when set. */
  kind: "edgeflags.kind",
  /** JSON string: string[]. */
  tags: "edgeflags.tags",
  /** JSON string: Prerequisite[]. flagd has no prerequisites: export warns. */
  prerequisites: "edgeflags.prerequisites",
  /**
   * JSON string: `{ fingerprint, targets?, rules?, fallthrough? }`. The native targeting, restored
   * on import only while the flag's JSON Logic `targeting` still has this fingerprint (if someone
   * edited the JSON Logic, the edit wins and the native form is dropped).
   */
  targeting: "edgeflags.targeting",
  /** The native flag type, written only when it differs from what the variants imply. */
  type: "edgeflags.type",
} as const;
export const EXT_KEYS: ReadonlySet<string> = new Set(Object.values(EXT));

/**
 * `$evaluators` entry holding the native segments: `{"cat": ["<segments as JSON>"]}`. An inert
 * expression (nothing `$ref`s it) that flagd's schema accepts, as it wants an object per
 * evaluator. Kept out of flag-set metadata on purpose, because flagd merges that into every
 * flag's metadata and segments can hold many thousand keys.
 */
export const SEGMENTS_EVALUATOR = "edgeflags.segments";
/** `$evaluators` name of the JSON Logic that tests membership of a segment. */
export const segmentEvaluatorName = (segmentKey: string) => `segment.${segmentKey}`;
