/**
 * The release RPCs of an environment's store (scheduled changes, progressive rollouts, change
 * requests and the approval policy), as the admin routes see them. Part of EnvironmentStoreApi.
 * @module
 */
import type { Serve } from "../model";
import type { PlanStep } from "../rollout-plan";
import type { Actor, StoreResult } from "./store-rpc";

export interface ScheduleInfo {
  id: string;
  /** ISO time it applies at. */
  at: string;
  flag: string;
  /** JSON Merge Patch (RFC 7396) of the native flag. */
  patch: Record<string, unknown>;
  status: "pending" | "applied" | "failed" | "cancelled";
  createdBy: Actor;
  createdAt: string;
  /** The environment version it made (applied). */
  version?: number;
  /** Why it was not applied (failed). */
  error?: string;
  /** When it was applied, failed or cancelled. */
  closedAt?: string;
  cancelledBy?: Actor;
}

export interface PlanInfo {
  flag: string;
  variant: string;
  steps: PlanStep[];
  status: "running" | "paused" | "completed" | "aborted";
  /** The step last applied (1-based). */
  step: number;
  percent: number;
  /** When the next step applies (running only). */
  nextAt?: string;
  createdBy: Actor;
  createdAt: string;
  updatedAt: string;
  /** Environment version of each applied step, in order. */
  versions: number[];
  /** The flag's fallthrough before the plan (absent: it had none); abort restores it. */
  before?: Serve;
  /** Why an aborted plan stopped, when it was not an abort call. */
  reason?: string;
}

export interface ChangeRequestChange {
  kind: "flag" | "segment" | "metadata" | "schedule" | "plan" | "policy";
  key?: string;
  action: string;
  before?: unknown;
  after?: unknown;
}

export interface ChangeRequestInfo {
  id: string;
  status: "pending" | "applied" | "rejected" | "withdrawn" | "conflict";
  /** What it would do, in the words of the audit log (`flag.put`, `flagd.import`, `schedule.create`, …). */
  operation: string;
  target?: string;
  createdBy: Actor;
  /** Who `createdBy` acts for (the admin routes add it from the Registry). */
  createdByPrincipal?: string;
  createdAt: string;
  /** The environment version it was based on. */
  baseVersion: number;
  /** Approvals it needs (the policy when it was made, at least 1). */
  required: number;
  /** `principal`: who the approving token acts for (absent on approvals recorded before principals existed). */
  approvals: { actor: Actor; principal?: string; at: string }[];
  /** What it would change; `changesOmitted` counts items left out of a large change. */
  changes: ChangeRequestChange[];
  changesOmitted?: number;
  /** applied: the version it made (or the version current then, for changes that make none). */
  version?: number;
  /** conflict: what changed meanwhile. */
  error?: string;
  closedBy?: Actor;
  closedAt?: string;
}

export interface ChangeRequestPage {
  status?: ChangeRequestInfo["status"];
  /** A `next` from the previous page. */
  before?: number;
  /** 1–500, default 200. */
  limit?: number;
}

/**
 * The principals of a review, resolved by the admin layer from the Registry (a token's principal
 * never changes): the reviewer's own, and [actor, principal] pairs for the request's creator and
 * approvers. Reviews compare principals, so a person's second token is not a second reviewer.
 */
export interface ReviewPrincipals {
  principal: string;
  known?: [Actor, string][];
}

export interface Policy {
  /** Approvals every write needs (0: none, writes apply at once). */
  approvals: number;
}

export interface ReleasesApi {
  createSchedule(input: { at: string; flag: string; patch: unknown }, actor: Actor): Promise<StoreResult<ScheduleInfo>>;
  listSchedules(): Promise<StoreResult<ScheduleInfo[]>>;
  cancelSchedule(id: string, actor: Actor): Promise<StoreResult<ScheduleInfo>>;

  putPlan(flag: string, input: { variant: string; steps: PlanStep[] }, actor: Actor): Promise<StoreResult<PlanInfo>>;
  getPlan(flag: string): Promise<StoreResult<PlanInfo>>;
  /** pause, resume or abort the flag's plan. */
  controlPlan(flag: string, action: "pause" | "resume" | "abort", actor: Actor): Promise<StoreResult<PlanInfo>>;
  /** The alert hook: pauses every running plan of the environment, naming why. */
  pauseRunningPlans(reason: string, actor: Actor): Promise<StoreResult<{ paused: string[] }>>;

  getPolicy(): Promise<StoreResult<Policy>>;
  putPolicy(policy: Policy, actor: Actor): Promise<StoreResult<Policy>>;
  /** Newest first, a page at a time; `next` is the `before` of the next page. */
  listChangeRequests(options?: ChangeRequestPage): Promise<StoreResult<{ changeRequests: ChangeRequestInfo[]; next?: number }>>;
  getChangeRequest(id: string): Promise<StoreResult<ChangeRequestInfo>>;
  /** `principals`: who `actor` acts for and who the request's creator and approvers act for; absent, each actor is its own principal. */
  reviewChangeRequest(id: string, action: "approve" | "reject" | "withdraw", actor: Actor, principals?: ReviewPrincipals): Promise<StoreResult<ChangeRequestInfo>>;
}
