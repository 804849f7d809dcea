/**
 * The whole environment as an EnvironmentDoc: loaded from the tables, rebuilt at an old version
 * for rollback, and written back as the difference to the current one (replaceAll, rollback).
 * @module
 */
import type { EnvironmentDoc, Flag, Segment } from "../../core/model";
import type { Stored } from "../../core/wire/store-rpc";
import { listFlags, removeFlag, setFlagPosition, writeFlag } from "./flags-repo";
import { setDocLevelJson } from "./meta-repo";
import { appendRevision, stateAt } from "./revisions-repo";
import {
  listSegments,
  readKeySet,
  removeSegment,
  segmentBody,
  segmentFrom,
  segmentPlace,
  setSegmentPosition,
  writeSegment,
} from "./segments-repo";
import { restoreKeys } from "./big-segments-repo";
import type { Sql } from "../sql";

/** The document-level fields of an EnvironmentDoc (metadata, shared evaluators), kept as one JSON value in meta.extra. */
export type DocLevelFields = Pick<EnvironmentDoc, "metadata" | "evaluators">;

/** The document-level fields as the JSON meta.extra holds (stable key order, so equal fields compare equal). */
export function docLevelJson(doc: EnvironmentDoc): string {
  return JSON.stringify({
    ...(doc.metadata === undefined ? {} : { metadata: doc.metadata }),
    ...(doc.evaluators === undefined ? {} : { evaluators: doc.evaluators }),
  });
}

/** Segment key lists longer than this appear in the audit log (and change requests) as a count only. */
const AUDIT_KEY_LIST_MAX = 100;

export function auditSegment(segment: Segment): unknown {
  const list = (l: string[]) => (l.length <= AUDIT_KEY_LIST_MAX ? l : { count: l.length });
  const { bigKeys, ...rest } = segment;
  return {
    ...rest,
    included: list(rest.included),
    excluded: list(rest.excluded),
    ...(bigKeys ? { keyCount: bigKeys.count } : {}),
  };
}

/**
 * `next` with every segment's batch-added keys as this environment holds them: they are never
 * taken from input (an import, a promote from another environment), and a segment that stays
 * keeps its keys.
 */
export function withOwnBigKeys(current: EnvironmentDoc, next: EnvironmentDoc): EnvironmentDoc {
  const own = new Map(current.segments.filter((s) => s.bigKeys).map((s) => [s.key, s.bigKeys!]));
  if (own.size === 0 && !next.segments.some((s) => s.bigKeys)) return next;
  return {
    ...next,
    segments: next.segments.map((s) => {
      const { bigKeys: _theirs, ...rest } = s;
      const mine = own.get(s.key);
      return mine ? { ...rest, bigKeys: mine } : rest;
    }),
  };
}

export function unstore<T>(item: Stored<T>): T {
  const { version: _v, ...rest } = item;
  return rest as T;
}

export function loadDoc(sql: Sql, extra: string): EnvironmentDoc {
  return {
    flags: listFlags(sql).map(unstore<Flag>),
    segments: listSegments(sql).map(unstore<Segment>),
    ...(JSON.parse(extra) as DocLevelFields),
  };
}

/** The document as it was at `version`, and where each segment's key lists are stored. */
export function docAt(sql: Sql, version: number): { doc: EnvironmentDoc; keySets: Map<string, number> } {
  const flags: Flag[] = [];
  const segments: Segment[] = [];
  const keySets = new Map<string, number>();
  let extra: DocLevelFields = {};
  for (const rev of stateAt(sql, version)) {
    if (rev.kind === "flag") flags.push(JSON.parse(rev.json) as Flag);
    else if (rev.kind === "doc") extra = JSON.parse(rev.json) as DocLevelFields;
    else {
      segments.push(segmentFrom(rev.json, readKeySet(sql, rev.key, rev.keysVersion!)));
      keySets.set(rev.key, rev.keysVersion!);
    }
  }
  return { doc: { flags, segments, ...extra }, keySets };
}

/** What a whole-document change did, for the audit log. Lists are capped; counts are not. */
export interface DocChanges {
  flags: { added: string[]; changed: string[]; removed: string[] };
  segments: { added: string[]; changed: string[]; removed: string[] };
  metadataChanged: boolean;
}

/** Keys are at most 256 characters: 6 lists of 200 stay far below the 2 MB row limit. */
const LIST_CAP = 200;
export function summarize(changes: DocChanges): unknown {
  const cap = (l: { added: string[]; changed: string[]; removed: string[] }) => ({
    added: l.added.slice(0, LIST_CAP),
    changed: l.changed.slice(0, LIST_CAP),
    removed: l.removed.slice(0, LIST_CAP),
    counts: { added: l.added.length, changed: l.changed.length, removed: l.removed.length },
  });
  return { flags: cap(changes.flags), segments: cap(changes.segments), metadataChanged: changes.metadataChanged };
}

/**
 * `items` with `changes` laid over them, order kept: a key present is replaced in place (or
 * removed, for null), a new key joins at the end in the order of `changes`.
 */
export function overlay<T extends { key: string }>(
  items: readonly T[],
  changes: readonly (readonly [string, T | null])[],
): T[] {
  const byKey = new Map(changes);
  const out: T[] = [];
  for (const item of items) {
    if (!byKey.has(item.key)) out.push(item);
    else if (byKey.get(item.key)) out.push(byKey.get(item.key)!);
    byKey.delete(item.key);
  }
  for (const value of byKey.values()) if (value) out.push(value);
  return out;
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes `next` over `current` at `version`: only items that differ get a new revision (and so a
 * new ETag); unchanged ones just take their new position. `keySets` names existing key sets to
 * reuse for segments (rollback), so old 100k-key lists are pointed at, not copied.
 */
export function applyDoc(
  sql: Sql,
  current: EnvironmentDoc,
  next: EnvironmentDoc,
  version: number,
  keySets?: Map<string, number>,
): DocChanges {
  const changes: DocChanges = {
    flags: { added: [], changed: [], removed: [] },
    segments: { added: [], changed: [], removed: [] },
    metadataChanged: false,
  };
  const oldFlags = new Map(current.flags.map((f) => [f.key, f]));
  next.flags.forEach((flag, position) => {
    const before = oldFlags.get(flag.key);
    oldFlags.delete(flag.key);
    if (!before) {
      writeFlag(sql, flag, position, version);
      changes.flags.added.push(flag.key);
    } else if (JSON.stringify(before) !== JSON.stringify(flag)) {
      writeFlag(sql, flag, position, version);
      changes.flags.changed.push(flag.key);
    } else setFlagPosition(sql, flag.key, position);
  });
  for (const key of oldFlags.keys()) {
    removeFlag(sql, key, version);
    changes.flags.removed.push(key);
  }

  const oldSegments = new Map(current.segments.map((s) => [s.key, s]));
  next.segments.forEach((segment, position) => {
    const before = oldSegments.get(segment.key);
    oldSegments.delete(segment.key);
    const sameKeys =
      before !== undefined &&
      sameList(before.included, segment.included) &&
      sameList(before.excluded, segment.excluded);
    if (before && sameKeys && segmentBody(before) === segmentBody(segment)) {
      setSegmentPosition(sql, segment.key, position);
      return;
    }
    const reuse = sameKeys ? segmentPlace(sql, segment.key)!.keysVersion : keySets?.get(segment.key);
    writeSegment(sql, segment, position, version, reuse);
    // Batch-added keys follow the segment's key set (rollback restores the one it names).
    if (before?.bigKeys?.version !== segment.bigKeys?.version)
      restoreKeys(sql, segment.key, segment.bigKeys?.version, version);
    (before ? changes.segments.changed : changes.segments.added).push(segment.key);
  });
  for (const key of oldSegments.keys()) {
    removeSegment(sql, key, version);
    changes.segments.removed.push(key);
  }

  const extra = docLevelJson(next);
  if (extra !== docLevelJson(current)) {
    setDocLevelJson(sql, extra);
    appendRevision(sql, "doc", "", version, 0, extra, null);
    changes.metadataChanged = true;
  }
  return changes;
}
