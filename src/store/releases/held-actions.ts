/**
 * Calls that are not document changes (schedules, rollout plans, the policy, big-segment key
 * batches) are held by the approval gate as the call itself, and repeated past the gate as their
 * creator once approved. A batch's keys are kept beside its request (held-keys-repo.ts), not here.
 * @module
 */
import type { PlanStep } from "../../core/rollout-plan";
import type { PlanAction, Policy } from "../../core/wire/releases-rpc";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import type { Gate } from "../environment/change";

/** A held call that is not a document change, repeated on approval. */
export type HeldAction =
  | { type: "schedule.create"; input: { at: string; flag: string; patch: unknown } }
  | { type: "schedule.cancel"; id: string }
  | { type: "plan.put"; flag: string; input: { variant: string; steps: PlanStep[] } }
  | { type: "plan.control"; flag: string; action: PlanAction }
  | { type: "policy.put"; approvals: number }
  | { type: "segment.keys"; segment: string };

type Answer = Promise<StoreResult<unknown>>;

/** The parts that make the held calls, as the change requests repeat them. */
export interface HeldActionParts {
  schedules: {
    create(input: { at: string; flag: string; patch: unknown }, actor: Actor, gate: Gate): Answer;
    cancel(id: string, actor: Actor, gate: Gate): Answer;
  };
  plans: {
    put(flag: string, input: { variant: string; steps: PlanStep[] }, actor: Actor, gate: Gate): Answer;
    control(flag: string, action: PlanAction, actor: Actor, gate: Gate): Answer;
  };
  policy: { put(policy: Policy, actor: Actor, gate: Gate): Answer };
  /** Applies the batch held by change request `request` (its keys are kept under that id). */
  segmentKeys: { applyHeld(segment: string, request: string, actor: Actor): Answer };
}

/** A held call of change request `request`, repeated past the policy gate as `actor` (its creator). */
export function repeatHeld(parts: HeldActionParts, action: HeldAction, actor: Actor, request: string): Answer {
  switch (action.type) {
    case "schedule.create":
      return parts.schedules.create(action.input, actor, "approved");
    case "schedule.cancel":
      return parts.schedules.cancel(action.id, actor, "approved");
    case "plan.put":
      return parts.plans.put(action.flag, action.input, actor, "approved");
    case "plan.control":
      return parts.plans.control(action.flag, action.action, actor, "approved");
    case "policy.put":
      return parts.policy.put({ approvals: action.approvals }, actor, "approved");
    case "segment.keys":
      return parts.segmentKeys.applyHeld(action.segment, request, actor);
  }
}
