/**
 * The approval gate: with a policy of N > 0 approvals, a write is kept as a pending change request
 * (answered `approval_required`, nothing changed) instead of being applied; change-requests.ts
 * applies it once N other principals approved it. The policy itself is changed through the gate.
 * @module
 */
import type { EnvironmentDoc } from "../../core/model";
import type { KeyBatch } from "../../core/wire/big-segments";
import type { ChangeRequestChange, Policy } from "../../core/wire/releases-rpc";
import type { Actor, StoreFailure, StoreResult } from "../../core/wire/store-rpc";
import type { Change, Gate } from "../environment/change";
import { appendEvent } from "../environment/events-repo";
import { liveMeta } from "../environment/liveness";
import type { Meta } from "../environment/meta-repo";
import { success, invalid } from "../results";
import type { Sql } from "../sql";
import { describe, docPayload } from "./change-request-payload";
import { openChangeRequest } from "./change-requests";
import type { HeldAction } from "./held-actions";
import { writeHeldKeys } from "./held-keys-repo";
import type { ReleaseHost } from "./host";
import { readApprovals, writeApprovals } from "./policy-repo";

export const MAX_APPROVALS = 10;

/** Approvals a write to this environment needs (0: it applies at once). */
export const approvalsRequired = (sql: Sql): number => readApprovals(sql);

/**
 * Records a checked document change as a pending request needing `required` approvals (the
 * caller answers 202) instead of applying it. Call inside a transaction.
 */
export function holdDocChange(
  sql: Sql,
  actor: Actor,
  meta: Meta,
  current: EnvironmentDoc,
  change: Change<unknown>,
  required: number,
): StoreFailure {
  const payload = docPayload(sql, meta, current, change);
  const { changes, omitted } = describe(current, payload);
  return openChangeRequest(
    sql,
    actor,
    meta,
    { required, operation: change.operation, target: change.target, changes, omitted },
    payload,
  );
}

/** The gate of a call that is not a document change (see `holdDocChange`): undefined when it may go ahead. */
export function holdAction(
  sql: Sql,
  actor: Actor,
  meta: Meta,
  action: HeldAction,
  shown: ChangeRequestChange,
  bases: [string, number][] = [],
): StoreFailure | undefined {
  const required = readApprovals(sql);
  if (required === 0) return undefined;
  const target = "flag" in action ? action.flag : "id" in action ? action.id : undefined;
  return openChangeRequest(
    sql,
    actor,
    meta,
    { required, operation: action.type, target, changes: [shown] },
    { type: "action", action, bases: { flags: bases } },
  );
}

/** A checked big-segment key batch: the keys it adds and removes (members or not now), its segment's version and key counts. */
export interface KeyBatchHold {
  segment: string;
  base: number;
  keys: KeyBatch;
  before: number;
  count: number;
}

/**
 * Records a checked key batch as a pending request needing `required` approvals (see
 * `holdDocChange`): listed by its counts, its keys kept beside it in bounded rows. Call inside a transaction.
 */
export function holdKeyBatch(sql: Sql, actor: Actor, meta: Meta, batch: KeyBatchHold, required: number): StoreFailure {
  const { segment, base, keys, before, count } = batch;
  const shown: ChangeRequestChange = {
    kind: "segment",
    key: segment,
    action: "keys",
    before: { count: before },
    after: { segment, added: keys.add.length, removed: keys.remove.length, count },
  };
  const held = openChangeRequest(
    sql,
    actor,
    meta,
    { required, operation: "segment.keys", target: segment, changes: [shown] },
    { type: "action", action: { type: "segment.keys", segment }, bases: { flags: [], segments: [[segment, base]] } },
  );
  if (held.error.code === "approval_required") writeHeldKeys(sql, held.error.changeRequest.id, keys);
  return held;
}

/** The policy: how many approvals a write needs. */
export class ApprovalPolicy {
  constructor(private readonly host: ReleaseHost) {}

  async get(): Promise<StoreResult<Policy>> {
    const live = liveMeta(this.host.sql);
    return live.ok ? success({ approvals: readApprovals(this.host.sql) }) : live;
  }

  async put(policy: Policy, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<Policy>> {
    const { sql } = this.host;
    const live = liveMeta(sql);
    if (!live.ok) return live;
    const approvals = policy?.approvals;
    if (!Number.isInteger(approvals) || approvals < 0 || approvals > MAX_APPROVALS)
      return invalid([{ path: "approvals", message: `must be a whole number from 0 to ${MAX_APPROVALS}` }]);
    const before = readApprovals(sql);
    if (gate === "policy") {
      const held = holdAction(
        sql,
        actor,
        live.value,
        { type: "policy.put", approvals },
        { kind: "policy", action: "change", before: { approvals: before }, after: { approvals } },
      );
      if (held) return held;
    }
    this.host.transaction(() => {
      writeApprovals(sql, approvals);
      appendEvent(sql, {
        version: live.value.version,
        actor: String(actor),
        operation: "policy.put",
        diff: { before: { approvals: before }, after: { approvals } },
      });
    });
    return success({ approvals });
  }
}
