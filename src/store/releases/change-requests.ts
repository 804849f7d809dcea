/**
 * Change requests: the writes the approval gate (approval-gate.ts) held, listed, reviewed and
 * applied. A request applies as one version once the policy's count of principals other than its
 * creator approved it: a document change through the same write path as any write, after every
 * base it was decided on is checked again (change-request-payload.ts); a held call by repeating
 * it past the gate (held-actions.ts). A request that can no longer apply closes as `conflict`.
 * @module
 */
import type {
  ChangeRequestChange,
  ChangeRequestInfo,
  ChangeRequestPage,
  ReviewAction,
  ReviewPrincipals,
} from "../../core/wire/releases-rpc";
import type { Actor, StoreFailure, StoreResult } from "../../core/wire/store-rpc";
import { applyDoc, summarize } from "../environment/document-rows";
import { appendEvent } from "../environment/events-repo";
import { liveMeta } from "../environment/liveness";
import type { Meta } from "../environment/meta-repo";
import { optionalNumber } from "../environment/validate";
import { conflict, success, failureMessage, notFound } from "../results";
import { randomId } from "../secrets";
import type { Sql } from "../sql";
import { appliedDiff, appliedDoc, staleBase, type Payload } from "./change-request-payload";
import * as repo from "./change-requests-repo";
import type { HeldAction } from "./held-actions";
import type { ReleaseHost } from "./host";

/** What a new request shows: the approvals it needs, the call it holds, the changes (and how many are left out). */
interface Opening {
  required: number;
  operation: string;
  target: string | undefined;
  changes: ChangeRequestChange[];
  omitted?: number;
}

/** Records a pending request (inside the caller's transaction) and answers the refusal that says so. */
export function openChangeRequest(
  sql: Sql,
  actor: Actor,
  meta: Meta,
  opening: Opening,
  payload: Payload,
): StoreFailure {
  if (repo.countPending(sql) >= repo.MAX_PENDING_CHANGE_REQUESTS) {
    return conflict(
      `the environment already has ${repo.MAX_PENDING_CHANGE_REQUESTS} pending change requests: approve, reject or withdraw some first`,
    );
  }
  const { required, operation, target, changes, omitted = 0 } = opening;
  const info: ChangeRequestInfo = {
    id: randomId("cr_"),
    status: "pending",
    operation,
    ...(target === undefined ? {} : { target }),
    createdBy: String(actor),
    createdAt: new Date().toISOString(),
    baseVersion: meta.version,
    required,
    approvals: [],
    changes,
    ...(omitted > 0 ? { changesOmitted: omitted } : {}),
  };
  repo.insertChangeRequest(sql, info, payload);
  appendEvent(sql, {
    version: meta.version,
    actor: info.createdBy,
    operation: "changeRequest.create",
    target: info.id,
    diff: { operation: info.operation, target: info.target ?? null },
  });
  return { ok: false, error: { code: "approval_required", changeRequest: info } };
}

/** The request closed by `actor` with `status`. */
export const closed = (
  info: ChangeRequestInfo,
  status: ChangeRequestInfo["status"],
  actor: Actor,
  extra: Partial<ChangeRequestInfo> = {},
): ChangeRequestInfo => ({ ...info, ...extra, status, closedBy: String(actor), closedAt: new Date().toISOString() });

export class ChangeRequests {
  /** `repeat`: a held call of request `request` made again past the gate as its creator (held-actions.ts `repeatHeld`). */
  constructor(
    private readonly host: ReleaseHost,
    private readonly repeat: (action: HeldAction, actor: Actor, request: string) => Promise<StoreResult<unknown>>,
  ) {}

  async list(
    options: ChangeRequestPage = {},
  ): Promise<StoreResult<{ changeRequests: ChangeRequestInfo[]; next?: number }>> {
    const live = liveMeta(this.host.sql);
    return live.ok
      ? success(
          repo.pageChangeRequests(
            this.host.sql,
            options?.status,
            optionalNumber(options?.before),
            optionalNumber(options?.limit),
          ),
        )
      : live;
  }

  async get(id: string): Promise<StoreResult<ChangeRequestInfo>> {
    const live = liveMeta(this.host.sql);
    if (!live.ok) return live;
    const info = repo.getChangeRequest(this.host.sql, id);
    return info ? success(info) : notFound(`no change request "${id}"`);
  }

  /**
   * approve (not by its creator's principal; at the required count it applies), reject (not by
   * its creator's principal), withdraw (by its creator's principal only). Each principal approves
   * at most once, whichever of its tokens it uses. A request that can no longer apply answers
   * status `conflict`.
   */
  async review(
    id: string,
    action: ReviewAction,
    actor: Actor,
    principals?: ReviewPrincipals,
  ): Promise<StoreResult<ChangeRequestInfo>> {
    const live = liveMeta(this.host.sql);
    if (!live.ok) return live;
    const info = repo.getChangeRequest(this.host.sql, id);
    if (!info) return notFound(`no change request "${id}"`);
    if (info.status !== "pending") return conflict(`change request "${id}" is ${info.status}`);
    const who = String(actor);
    const known = new Map(Array.isArray(principals?.known) ? principals.known : []);
    const principalOf = (a: string) => known.get(a) ?? a;
    const me = typeof principals?.principal === "string" ? principals.principal : who;
    const creator = principalOf(info.createdBy);
    const mine = me === creator;
    const acting = who === me ? `"${me}"` : `${who} (acting for "${me}")`;
    if (action === "withdraw" && !mine)
      return {
        ok: false,
        error: {
          code: "forbidden",
          message: `only the creator of a change request ("${creator}") may withdraw it, not ${acting}`,
        },
      };
    if (action !== "withdraw" && mine)
      return {
        ok: false,
        error: {
          code: "forbidden",
          message: `the creator of a change request may not ${action} it: ${acting} is the principal that made it`,
        },
      };
    if (action === "approve" && info.approvals.some((a) => (a.principal ?? principalOf(a.actor)) === me))
      return conflict(`change request "${id}" is already approved by "${me}"`);
    const event = (operation: string, diff: unknown, version = live.value.version) =>
      appendEvent(this.host.sql, { version, actor: who, operation, target: id, diff });
    if (action !== "approve") {
      const next = closed(info, action === "reject" ? "rejected" : "withdrawn", who);
      this.host.transaction(() => {
        repo.updateChangeRequest(this.host.sql, next);
        event(`changeRequest.${action}`, { operation: info.operation });
      });
      return success(next);
    }
    const approved: ChangeRequestInfo = {
      ...info,
      approvals: [...info.approvals, { actor: who, principal: me, at: new Date().toISOString() }],
    };
    this.host.transaction(() => {
      repo.updateChangeRequest(this.host.sql, approved);
      event("changeRequest.approve", { approvals: approved.approvals.length, required: info.required });
    });
    if (approved.approvals.length < info.required) return success(approved);
    return this.apply(approved, who);
  }

  private async apply(info: ChangeRequestInfo, approver: string): Promise<StoreResult<ChangeRequestInfo>> {
    const payload = repo.readPayload<Payload>(this.host.sql, info.id);
    const applied = (version: number) => closed(info, "applied", approver, { version });
    let result: StoreResult<ChangeRequestInfo>;
    const meta = liveMeta(this.host.sql);
    if (!meta.ok) return meta;
    const stale = staleBase(this.host.sql, meta.value, payload);
    if (stale) result = stale;
    else if (payload.type === "doc") {
      result = await this.host.mutate(
        info.createdBy,
        (current, m) => {
          const again = staleBase(this.host.sql, m, payload);
          if (again) return again;
          const next = appliedDoc(current, payload);
          return success({
            operation: payload.operation,
            ...(payload.target === undefined ? {} : { target: payload.target }),
            next,
            write: (v: number) => {
              const summary = summarize(applyDoc(this.host.sql, current, next, v));
              repo.updateChangeRequest(this.host.sql, applied(v));
              return appliedDiff(current, payload, info, summary);
            },
            answer: (v: number) => applied(v),
          });
        },
        "approved",
      );
    } else {
      const repeated = await this.repeat(payload.action, info.createdBy, info.id);
      if (repeated.ok) {
        const now = liveMeta(this.host.sql);
        const version = now.ok ? now.value.version : meta.value.version;
        const closedInfo = applied(version);
        this.host.transaction(() => repo.updateChangeRequest(this.host.sql, closedInfo));
        result = success(closedInfo);
      } else result = repeated;
    }
    if (result.ok) return result;
    if (result.error.code !== "conflict" && result.error.code !== "invalid" && result.error.code !== "not_found")
      return result;
    // Based on something that changed or no longer validates: closed as a conflict, nothing applied.
    const error = failureMessage(result);
    const now = liveMeta(this.host.sql);
    const conflicted = closed(info, "conflict", approver, { error });
    this.host.transaction(() => {
      repo.updateChangeRequest(this.host.sql, conflicted);
      appendEvent(this.host.sql, {
        version: now.ok ? now.value.version : meta.value.version,
        actor: approver,
        operation: "changeRequest.conflict",
        target: info.id,
        diff: { error },
      });
    });
    return success(conflicted);
  }
}
