/**
 * An environment comes into being and goes away: `create` (idempotent; a deleted one is created
 * again and continues its version counter and history) and `destroy`.
 * @module
 */
import { ENVIRONMENT_PATTERN } from "../../core/wire/kv-layout";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import { clearAlerts } from "../alerts/alerts-repo";
import { clearLifecycleSettings } from "../insights/lifecycle-repo";
import { clearUsage } from "../insights/usage-repo";
import { approvalsRequired } from "../releases/approval-gate";
import { clearChangeRequests } from "../releases/change-requests-repo";
import { clearPolicy } from "../releases/policy-repo";
import { clearPlans } from "../releases/rollout-plans-repo";
import { clearSchedules } from "../releases/schedules-repo";
import { conflict, success, invalid } from "../results";
import type { Sql } from "../sql";
import { clearWebhooks } from "../webhooks/webhooks-repo";
import { appendAudit } from "./audit-repo";
import { appendEvent } from "./events-repo";
import * as flags from "./flags-repo";
import * as keys from "./keys-repo";
import { liveMeta } from "./liveness";
import { bumpVersion, insertMeta, readMeta, setDeleted } from "./meta-repo";
import { appendRevision, clearRevisions } from "./revisions-repo";
import * as segments from "./segments-repo";
import type { WritePath } from "./write-path";

export interface ExistenceHost {
  sql: Sql;
  transaction(fn: () => void): void;
  writes: WritePath;
  /** After either: the new state goes to KV (a pointer, or its tombstone). */
  publish(): Promise<void>;
  /** After destroy: the change stream's subscribers are let go. */
  closeStream(): void;
}

export async function createEnvironment(
  host: ExistenceHost,
  name: string,
  actor: Actor,
): Promise<StoreResult<{ created: boolean; version: number }>> {
  if (typeof name !== "string" || !ENVIRONMENT_PATTERN.test(name)) {
    return invalid([{ path: "name", message: "must match " + ENVIRONMENT_PATTERN.source }]);
  }
  const { sql } = host;
  const meta = readMeta(sql);
  if (meta && meta.name !== name) return conflict(`this store belongs to environment "${meta.name}", not "${name}"`);
  if (meta && !meta.deleted) return success({ created: false, version: meta.version });
  const time = new Date().toISOString();
  let version = 0;
  host.transaction(() => {
    if (meta) setDeleted(sql, false, time);
    else insertMeta(sql, name, time);
    version = bumpVersion(sql);
    appendRevision(sql, "doc", "", version, 0, "{}", null);
    appendAudit(sql, { version, time, actor: String(actor), operation: "environment.create", diff: {} });
  });
  host.writes.reset(version, { flags: [], segments: [] });
  await host.publish();
  return success({ created: true, version });
}

/**
 * Refused (conflict) while the policy requires approvals: a delete would drop the policy with
 * everything else, so one token could otherwise undo what N reviewers guard. Lowering the policy
 * is itself a change request. The audit log and events stay (history reads them after a delete,
 * and a re-created environment continues them); so does the version counter (meta row), so a
 * re-created environment never reuses a version.
 */
export async function destroyEnvironment(host: ExistenceHost, actor: Actor): Promise<StoreResult<{ deleted: true }>> {
  const { sql } = host;
  const live = liveMeta(sql);
  if (!live.ok) return live;
  const required = approvalsRequired(sql);
  if (required > 0) {
    return conflict(
      `environment "${live.value.name}" needs ${required} approval${required === 1 ? "" : "s"} per change: deleting it is refused until its policy is lowered to 0 approvals through an approved change request`,
    );
  }
  const time = new Date().toISOString();
  host.transaction(() => {
    appendEvent(sql, {
      version: live.value.version,
      time,
      actor: String(actor),
      operation: "environment.delete",
      diff: { flags: flags.countFlags(sql), segments: segments.countSegments(sql) },
    });
    flags.clearFlags(sql);
    segments.clearSegments(sql);
    clearRevisions(sql);
    keys.revokeKeys(sql, time, String(actor));
    clearSchedules(sql);
    clearPlans(sql);
    clearChangeRequests(sql);
    clearPolicy(sql);
    clearUsage(sql);
    clearLifecycleSettings(sql);
    clearWebhooks(sql);
    clearAlerts(sql);
    setDeleted(sql, true);
  });
  host.writes.reset();
  host.closeStream();
  await host.publish();
  return success({ deleted: true });
}
