/**
 * Release answers of an environment's store (scheduled changes, progressive rollouts, change
 * requests, the approval policy) and their HTTP faces.
 * @module
 */
import * as z from "zod/mini";
import { Serve } from "../../model";
import { Actor } from "./environments";
import { CHANGE_KINDS, CHANGE_REQUEST_STATUSES, PLAN_STATUSES, SCHEDULE_STATUSES } from "./enums";
import { PlanStep } from "./requests";

export const ScheduleInfo = z.object({
  id: z.string(),
  /** ISO time it applies at. */
  at: z.string(),
  flag: z.string(),
  /** JSON Merge Patch (RFC 7396) of the native flag. */
  patch: z.record(z.string(), z.unknown()),
  status: z.enum(SCHEDULE_STATUSES),
  createdBy: Actor,
  createdAt: z.string(),
  /** The environment version it made (applied). */
  version: z.optional(z.int()).check(z.describe("applied: the version it made.")),
  /** Why it was not applied (failed). */
  error: z.optional(z.string()).check(z.describe("failed: why.")),
  /** When it was applied, failed or cancelled. */
  closedAt: z.optional(z.string()),
  cancelledBy: z.optional(Actor),
});
export type ScheduleInfo = z.infer<typeof ScheduleInfo>;

export const PlanInfo = z.object({
  flag: z.string(),
  variant: z.string(),
  steps: z.array(PlanStep),
  status: z.enum(PLAN_STATUSES),
  /** The step last applied (1-based). */
  step: z.int().check(z.describe("The step last applied (1-based).")),
  percent: z.number(),
  /** When the next step applies (running only). */
  nextAt: z.optional(z.string()),
  createdBy: Actor,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Environment version of each applied step, in order. */
  versions: z.array(z.int()),
  /** The flag's fallthrough before the plan (absent: it had none); abort restores it. */
  before: z.optional(Serve).check(z.describe("The fallthrough before the plan (abort restores it).")),
  /** Why an aborted plan stopped, when it was not an abort call. */
  reason: z.optional(z.string()),
});
export type PlanInfo = z.infer<typeof PlanInfo>;

export const ChangeRequestChange = z.object({
  kind: z.enum(CHANGE_KINDS),
  key: z.optional(z.string()),
  action: z.string(),
  before: z.optional(z.unknown()),
  after: z.optional(z.unknown()),
});
export type ChangeRequestChange = z.infer<typeof ChangeRequestChange>;

const Approval = z.object({
  actor: Actor,
  /** Who the approving token acts for (absent on approvals recorded before principals existed). */
  principal: z.optional(z.string()),
  at: z.string(),
});

/** A change request as the store keeps it (actors only; the admin routes add principals: ChangeRequest). */
export const ChangeRequestInfo = z.object({
  id: z.string(),
  status: z.enum(CHANGE_REQUEST_STATUSES),
  /** What it would do, in the words of the audit log (`flag.put`, `flagd.import`, `schedule.create`, …). */
  operation: z.string(),
  target: z.optional(z.string()),
  createdBy: Actor,
  /** Who `createdBy` acts for (the admin routes add it from the Registry). */
  createdByPrincipal: z.optional(z.string()),
  createdAt: z.string(),
  /** The environment version it was based on. */
  baseVersion: z.int(),
  /** Approvals it needs (the policy when it was made, at least 1). */
  required: z.int(),
  approvals: z.array(Approval),
  /** What it would change; `changesOmitted` counts items left out of a large change. */
  changes: z.array(ChangeRequestChange),
  changesOmitted: z.optional(z.int()),
  /** applied: the version it made (or the version current then, for changes that make none). */
  version: z.optional(z.int()),
  /** conflict: what changed meanwhile. */
  error: z.optional(z.string()),
  closedBy: z.optional(Actor),
  closedAt: z.optional(z.string()),
});
export type ChangeRequestInfo = z.infer<typeof ChangeRequestInfo>;

/** A change request as the admin routes answer it: every actor with its principal (src/admin/principals.ts). */
export const ChangeRequest = z.extend(ChangeRequestInfo, {
  createdByPrincipal: z.string().check(z.describe("Who the creator acts for; no reviewer may share it.")),
  approvals: z.array(z.extend(Approval, { principal: z.string() })).check(z.describe("One per principal.")),
});

/** 202 of a write the approvals policy held. */
export const Held = z
  .object({ changeRequest: ChangeRequest })
  .check(z.describe("The environment requires approvals: the write is a pending change request; nothing changed."));

/** 200 of approve, reject, withdraw. */
export const Reviewed = z.object({
  changeRequest: ChangeRequest,
  status: z.enum(CHANGE_REQUEST_STATUSES),
  version: z.optional(z.int()),
});
