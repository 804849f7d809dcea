/**
 * The closed sets of names the HTTP API and the store RPCs use (statuses, actions, roles), as
 * constants: the zod schemas (./releases.ts, ./tokens.ts, ./requests.ts) and the routes read
 * them. No zod here, so a route that needs a name pulls in no schema.
 * @module
 */
export const SCHEDULE_STATUSES = ["pending", "applied", "failed", "cancelled"] as const;
export const PLAN_STATUSES = ["running", "paused", "completed", "aborted"] as const;
export const PLAN_ACTIONS = ["pause", "resume", "abort"] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];
export const CHANGE_REQUEST_STATUSES = ["pending", "applied", "rejected", "withdrawn", "conflict"] as const;
export const REVIEW_ACTIONS = ["approve", "reject", "withdraw"] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];
export const CHANGE_KINDS = ["flag", "segment", "metadata", "schedule", "plan", "policy"] as const;

/** "admin" (everything), "read" (GET only); `environments` limits either to those names. */
export const ADMIN_ROLES = ["admin", "read"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];
