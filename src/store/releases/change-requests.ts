/**
 * Change requests: with an approval policy of N > 0, a write is kept as a pending request instead
 * of being applied, and applied as one version once N other actors approved it.
 *
 * A document change (flag/segment put or delete, toggle, flagd import, rollback, promote) is
 * held as what it would write: each flag and segment it adds, replaces or removes, and the
 * document metadata, together with the version each of those had when the request was made (its
 * base). Applying re-checks every base inside the store's single-writer transaction: if any item
 * moved on meanwhile, the request becomes `conflict` and nothing changes; else the items are laid
 * over the current document and committed through the same `mutate` path as any write. Changes
 * that are not document changes (schedules, plans, the policy) are held as the call to repeat.
 * @module
 */
import type { EnvironmentDoc, Flag, Segment } from "../../core/model";
import type { Actor, StoreFailure } from "../../core/wire/store-rpc";
import { auditSegment, extraOf, overlay } from "../environment/document-rows";
import type { Change } from "../environment/change";
import { appendEvent } from "../environment/events-repo";
import { getFlag } from "../environment/flags-repo";
import { randomId } from "../secrets";
import type { Meta } from "../environment/meta-repo";
import { conflict } from "../results";
import type { ChangeRequestChange, ChangeRequestInfo, PlanAction } from "../../core/wire/releases-rpc";
import * as repo from "./change-requests-repo";
import { segmentPlace } from "../environment/segments-repo";
import type { Sql } from "../sql";

/** A held call that is not a document change, repeated on approval. */
export type HeldAction =
  | { type: "schedule.create"; input: { at: string; flag: string; patch: unknown } }
  | { type: "schedule.cancel"; id: string }
  | { type: "plan.put"; flag: string; input: { variant: string; steps: { percent: number; waitSeconds: number }[] } }
  | { type: "plan.control"; flag: string; action: PlanAction }
  | { type: "policy.put"; approvals: number };

/** Item lists are [key, value] pairs, never objects keyed by user keys (`__proto__` is a valid key). */
export interface DocPayload {
  type: "doc";
  operation: string;
  target?: string;
  flags: [string, Flag | null][];
  segments: [string, Segment | null][];
  /** The document-level metadata JSON (doc.ts `extraOf`), when it changes. */
  extra?: string;
  bases: { flags: [string, number][]; segments: [string, number][]; extra?: string };
}

export type Payload = DocPayload | { type: "action"; action: HeldAction; bases: { flags: [string, number][] } };

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
function describe(current: EnvironmentDoc, payload: DocPayload): { changes: ChangeRequestChange[]; omitted: number } {
  const flagsBefore = new Map(current.flags.map((f) => [f.key, f]));
  const segmentsBefore = new Map(current.segments.map((s) => [s.key, s]));
  const changes: ChangeRequestChange[] = [];
  let size = 0;
  let omitted = 0;
  const add = (kind: "flag" | "segment", key: string, before: unknown, after: unknown) => {
    const action = before === undefined ? "add" : after === null ? "remove" : "change";
    const shown = { kind, key, action, before: before ?? null, after };
    const bytes = JSON.stringify(shown).length;
    if (size + bytes > SHOWN_CHANGES_BYTES) { omitted++; changes.push({ kind, key, action }); return; }
    size += bytes;
    changes.push(shown);
  };
  for (const [key, flag] of payload.flags) add("flag", key, flagsBefore.get(key), flag);
  for (const [key, segment] of payload.segments) {
    const before = segmentsBefore.get(key);
    add("segment", key, before && auditSegment(before), segment && auditSegment(segment));
  }
  if (payload.extra !== undefined) changes.push({ kind: "metadata", action: "change", before: JSON.parse(extraOf(current)), after: JSON.parse(payload.extra) });
  return { changes, omitted };
}

function newInfo(actor: Actor, meta: Meta, required: number, operation: string, target: string | undefined, changes: ChangeRequestChange[], omitted = 0): ChangeRequestInfo {
  return {
    id: randomId("cr_"), status: "pending", operation, ...(target === undefined ? {} : { target }),
    createdBy: String(actor), createdAt: new Date().toISOString(), baseVersion: meta.version, required, approvals: [],
    changes, ...(omitted > 0 ? { changesOmitted: omitted } : {}),
  };
}

function record(sql: Sql, info: ChangeRequestInfo, payload: Payload, meta: Meta): StoreFailure {
  if (repo.countPending(sql) >= repo.MAX_PENDING_CHANGE_REQUESTS) {
    return conflict(`the environment already has ${repo.MAX_PENDING_CHANGE_REQUESTS} pending change requests: approve, reject or withdraw some first`);
  }
  repo.insertChangeRequest(sql, info, payload);
  appendEvent(sql, { version: meta.version, actor: info.createdBy, operation: "changeRequest.create", target: info.id, diff: { operation: info.operation, target: info.target ?? null } });
  return { ok: false, error: { code: "approval_required", changeRequest: info } };
}

/** Approvals a write to this environment needs (0: it applies at once). */
export const approvalsRequired = (sql: Sql): number => repo.readApprovals(sql);

/**
 * Records a checked document change as a pending request needing `required` approvals (the
 * caller answers 202) instead of applying it. Call inside a transaction.
 */
export function holdDocChange(sql: Sql, actor: Actor, meta: Meta, current: EnvironmentDoc, change: Change<unknown>, required: number): StoreFailure {
  const flags = changedItems(current.flags, change.next.flags);
  const segments = changedItems(current.segments, change.next.segments);
  const extra = extraOf(change.next) === extraOf(current) ? undefined : extraOf(change.next);
  const payload: DocPayload = {
    type: "doc", operation: change.operation, ...(change.target === undefined ? {} : { target: change.target }), flags, segments,
    ...(extra === undefined ? {} : { extra }),
    bases: {
      flags: flags.map(([key]) => [key, getFlag(sql, key)?.version ?? 0]),
      segments: segments.map(([key]) => [key, segmentPlace(sql, key)?.version ?? 0]),
      ...(extra === undefined ? {} : { extra: meta.extra }),
    },
  };
  const { changes, omitted } = describe(current, payload);
  return record(sql, newInfo(actor, meta, required, change.operation, change.target, changes, omitted), payload, meta);
}

/** The policy gate of a call that is not a document change (see `holdDocChange`). */
export function holdAction(sql: Sql, actor: Actor, meta: Meta, action: HeldAction, shown: ChangeRequestChange, bases: [string, number][] = []): StoreFailure | undefined {
  const required = repo.readApprovals(sql);
  if (required === 0) return undefined;
  const target = "flag" in action ? action.flag : "id" in action ? action.id : undefined;
  return record(sql, newInfo(actor, meta, required, action.type, target, [shown]), { type: "action", action, bases: { flags: bases } }, meta);
}

/** The first base that moved on since the request was made, as a refusal. */
export function staleBase(sql: Sql, meta: Meta, payload: Payload): StoreFailure | undefined {
  for (const [key, version] of payload.bases.flags) {
    const now = getFlag(sql, key)?.version ?? 0;
    if (now !== version) return conflict(`flag "${key}" changed since the change request was made (version ${now}, was ${version})`);
  }
  if (payload.type === "action") return undefined;
  for (const [key, version] of payload.bases.segments) {
    const now = segmentPlace(sql, key)?.version ?? 0;
    if (now !== version) return conflict(`segment "${key}" changed since the change request was made (version ${now}, was ${version})`);
  }
  if (payload.bases.extra !== undefined && payload.bases.extra !== meta.extra) return conflict("the environment metadata changed since the change request was made");
  return undefined;
}

/** The document with the request's items laid over `current`. */
export function appliedDoc(current: EnvironmentDoc, payload: DocPayload): EnvironmentDoc {
  const next: EnvironmentDoc = { ...current, flags: overlay(current.flags, payload.flags), segments: overlay(current.segments, payload.segments) };
  if (payload.extra === undefined) return next;
  const { metadata: _m, evaluators: _e, ...rest } = next;
  return { ...rest, ...(JSON.parse(payload.extra) as Pick<EnvironmentDoc, "metadata" | "evaluators">) };
}

/** The audit diff of an applied document request: before/after of a single item, else what changed. */
export function appliedDiff(current: EnvironmentDoc, payload: DocPayload, info: ChangeRequestInfo, summary: unknown): unknown {
  const changeRequest = { id: info.id, createdBy: info.createdBy, approvedBy: info.approvals.map((a) => a.actor) };
  if (payload.flags.length + payload.segments.length === 1 && payload.extra === undefined) {
    const [kind, [key, after]] = payload.flags.length === 1 ? ["flag", payload.flags[0]!] as const : ["segment", payload.segments[0]!] as const;
    const before = kind === "flag" ? current.flags.find((f) => f.key === key) : current.segments.find((s) => s.key === key);
    const show = (v: unknown) => (v && kind === "segment" ? auditSegment(v as Segment) : v ?? null);
    return { changeRequest, before: show(before), after: show(after) };
  }
  return { changeRequest, ...(summary as object) };
}

/** The request closed by `actor` with `status`. */
export const closed = (info: ChangeRequestInfo, status: ChangeRequestInfo["status"], actor: Actor, extra: Partial<ChangeRequestInfo> = {}): ChangeRequestInfo =>
  ({ ...info, ...extra, status, closedBy: String(actor), closedAt: new Date().toISOString() });
