/**
 * What a change request keeps: for a document change, each flag and segment it adds, replaces or
 * removes and the document metadata, with the version each had when the request was made (its
 * base); for any other call, the call itself. Applying re-checks every base inside the
 * single-writer transaction: if any item moved on meanwhile, nothing changes.
 * @module
 */
import type { EnvironmentDoc, Flag, Segment } from "../../core/model";
import type { ChangeRequestChange, ChangeRequestInfo } from "../../core/wire/releases-rpc";
import type { StoreFailure } from "../../core/wire/store-rpc";
import type { Change } from "../environment/change";
import { auditSegment, docLevelJson, overlay } from "../environment/document-rows";
import { getFlag } from "../environment/flags-repo";
import type { Meta } from "../environment/meta-repo";
import { segmentPlace } from "../environment/segments-repo";
import { conflict } from "../results";
import type { Sql } from "../sql";
import type { HeldAction } from "./held-actions";

/** Item lists are [key, value] pairs, never objects keyed by user keys (`__proto__` is a valid key). */
export interface DocPayload {
  type: "doc";
  operation: string;
  target?: string;
  flags: [string, Flag | null][];
  segments: [string, Segment | null][];
  /** The document-level metadata JSON (document-rows.ts `docLevelJson`), when it changes. */
  extra?: string;
  bases: { flags: [string, number][]; segments: [string, number][]; extra?: string };
}

/** A held call, with the versions of the flags and segments it was decided on. */
export type Payload =
  | DocPayload
  | { type: "action"; action: HeldAction; bases: { flags: [string, number][]; segments?: [string, number][] } };

/** The before/after values shown in a request stop once they pass this size: later items are listed by key. */
const SHOWN_CHANGES_BYTES = 256 * 1024;

function changedItems<T extends { key: string }>(before: readonly T[], after: readonly T[]): [string, T | null][] {
  const old = new Map(before.map((i) => [i.key, i]));
  const out: [string, T | null][] = [];
  for (const item of after) {
    const was = old.get(item.key);
    old.delete(item.key);
    if (!was || JSON.stringify(was) !== JSON.stringify(item)) out.push([item.key, item]);
  }
  for (const key of old.keys()) out.push([key, null]);
  return out;
}

/** What a request shows: before/after per item while they stay small, then keys only. */
export function describe(
  current: EnvironmentDoc,
  payload: DocPayload,
): { changes: ChangeRequestChange[]; omitted: number } {
  const flagsBefore = new Map(current.flags.map((f) => [f.key, f]));
  const segmentsBefore = new Map(current.segments.map((s) => [s.key, s]));
  const changes: ChangeRequestChange[] = [];
  let size = 0;
  let omitted = 0;
  const add = (kind: "flag" | "segment", key: string, before: unknown, after: unknown) => {
    const action = before === undefined ? "add" : after === null ? "remove" : "change";
    const shown = { kind, key, action, before: before ?? null, after };
    const bytes = JSON.stringify(shown).length;
    if (size + bytes > SHOWN_CHANGES_BYTES) {
      omitted++;
      changes.push({ kind, key, action });
      return;
    }
    size += bytes;
    changes.push(shown);
  };
  for (const [key, flag] of payload.flags) add("flag", key, flagsBefore.get(key), flag);
  for (const [key, segment] of payload.segments) {
    const before = segmentsBefore.get(key);
    add("segment", key, before && auditSegment(before), segment && auditSegment(segment));
  }
  if (payload.extra !== undefined)
    changes.push({
      kind: "metadata",
      action: "change",
      before: JSON.parse(docLevelJson(current)),
      after: JSON.parse(payload.extra),
    });
  return { changes, omitted };
}

/** A checked document change as what applying it writes, with the bases it was decided on. */
export function docPayload(sql: Sql, meta: Meta, current: EnvironmentDoc, change: Change<unknown>): DocPayload {
  const flags = changedItems(current.flags, change.next.flags);
  const segments = changedItems(current.segments, change.next.segments);
  const extra = docLevelJson(change.next) === docLevelJson(current) ? undefined : docLevelJson(change.next);
  return {
    type: "doc",
    operation: change.operation,
    ...(change.target === undefined ? {} : { target: change.target }),
    flags,
    segments,
    ...(extra === undefined ? {} : { extra }),
    bases: {
      flags: flags.map(([key]) => [key, getFlag(sql, key)?.version ?? 0]),
      segments: segments.map(([key]) => [key, segmentPlace(sql, key)?.version ?? 0]),
      ...(extra === undefined ? {} : { extra: meta.extra }),
    },
  };
}

/** The first base that moved on since the request was made, as a refusal. */
export function staleBase(sql: Sql, meta: Meta, payload: Payload): StoreFailure | undefined {
  for (const [key, version] of payload.bases.flags) {
    const now = getFlag(sql, key)?.version ?? 0;
    if (now !== version)
      return conflict(`flag "${key}" changed since the change request was made (version ${now}, was ${version})`);
  }
  for (const [key, version] of payload.bases.segments ?? []) {
    const now = segmentPlace(sql, key)?.version ?? 0;
    if (now !== version)
      return conflict(`segment "${key}" changed since the change request was made (version ${now}, was ${version})`);
  }
  if (payload.type === "doc" && payload.bases.extra !== undefined && payload.bases.extra !== meta.extra)
    return conflict("the environment metadata changed since the change request was made");
  return undefined;
}

/** The document with the request's items laid over `current`. */
export function appliedDoc(current: EnvironmentDoc, payload: DocPayload): EnvironmentDoc {
  const next: EnvironmentDoc = {
    ...current,
    flags: overlay(current.flags, payload.flags),
    segments: overlay(current.segments, payload.segments),
  };
  if (payload.extra === undefined) return next;
  const { metadata: _m, evaluators: _e, ...rest } = next;
  return { ...rest, ...(JSON.parse(payload.extra) as Pick<EnvironmentDoc, "metadata" | "evaluators">) };
}

/** The audit diff of an applied document request: before/after of a single item, else what changed. */
export function appliedDiff(
  current: EnvironmentDoc,
  payload: DocPayload,
  info: ChangeRequestInfo,
  summary: unknown,
): unknown {
  const changeRequest = { id: info.id, createdBy: info.createdBy, approvedBy: info.approvals.map((a) => a.actor) };
  if (payload.flags.length + payload.segments.length === 1 && payload.extra === undefined) {
    const [kind, [key, after]] =
      payload.flags.length === 1
        ? (["flag", payload.flags[0]!] as const)
        : (["segment", payload.segments[0]!] as const);
    const before =
      kind === "flag" ? current.flags.find((f) => f.key === key) : current.segments.find((s) => s.key === key);
    const show = (v: unknown) => (v && kind === "segment" ? auditSegment(v as Segment) : (v ?? null));
    return { changeRequest, before: show(before), after: show(after) };
  }
  return { changeRequest, ...(summary as object) };
}
