/**
 * The release RPCs of an environment's store (scheduled changes, progressive rollouts, change
 * requests and the approval policy), as the admin routes see them. Part of EnvironmentStoreApi.
 * @module
 */
import type { Actor, StoreResult } from "./store-rpc";
import type { PlanAction, ReviewAction } from "./dto/enums";
import type { ChangeRequestChange, ChangeRequestInfo, PlanInfo, ScheduleInfo } from "./dto/releases";
import type { ChangeRequestPage, PlanStep, Policy } from "./dto/requests";

// The answers are declared once, as zod schemas, in ./dto/releases.ts (scripts/openapi.ts documents them).
export type {
  ChangeRequestChange,
  ChangeRequestInfo,
  ChangeRequestPage,
  PlanAction,
  PlanInfo,
  Policy,
  ReviewAction,
  ScheduleInfo,
};

/**
 * The principals of a review, resolved by the admin layer from the Registry (a token's principal
 * never changes): the reviewer's own, and [actor, principal] pairs for the request's creator and
 * approvers. Reviews compare principals, so a person's second token is not a second reviewer.
 */
export interface ReviewPrincipals {
  principal: string;
  known?: [Actor, string][];
}

export interface ReleasesApi {
  createSchedule(input: { at: string; flag: string; patch: unknown }, actor: Actor): Promise<StoreResult<ScheduleInfo>>;
  listSchedules(): Promise<StoreResult<ScheduleInfo[]>>;
  cancelSchedule(id: string, actor: Actor): Promise<StoreResult<ScheduleInfo>>;

  putPlan(flag: string, input: { variant: string; steps: PlanStep[] }, actor: Actor): Promise<StoreResult<PlanInfo>>;
  getPlan(flag: string): Promise<StoreResult<PlanInfo>>;
  /** pause, resume or abort the flag's plan. */
  controlPlan(flag: string, action: PlanAction, actor: Actor): Promise<StoreResult<PlanInfo>>;
  /** The alert hook: pauses every running plan of the environment, naming why. */
  pauseRunningPlans(reason: string, actor: Actor): Promise<StoreResult<{ paused: string[] }>>;

  getPolicy(): Promise<StoreResult<Policy>>;
  putPolicy(policy: Policy, actor: Actor): Promise<StoreResult<Policy>>;
  /** Newest first, a page at a time; `next` is the `before` of the next page. */
  listChangeRequests(
    options?: ChangeRequestPage,
  ): Promise<StoreResult<{ changeRequests: ChangeRequestInfo[]; next?: number }>>;
  getChangeRequest(id: string): Promise<StoreResult<ChangeRequestInfo>>;
  /** `principals`: who `actor` acts for and who the request's creator and approvers act for; absent, each actor is its own principal. */
  reviewChangeRequest(
    id: string,
    action: ReviewAction,
    actor: Actor,
    principals?: ReviewPrincipals,
  ): Promise<StoreResult<ChangeRequestInfo>>;
}
