/**
 * Releasing safely, on the environment's Durable Object: scheduled changes and release plans
 * (applied by the DO alarm, one version each) and change requests under an approval policy.
 * Every change to the document goes through the store's `mutate` path (`ReleaseHost`), so it is
 * validated whole, committed in one transaction with its audit row, and published like any write.
 * Steps that make no version (a schedule cancelled, a plan paused, a request approved) are audit
 * events (events-repo.ts).
 * @module
 */
import { checkJsonShape, DOCUMENT_LIMITS } from "../../core/limits";
import { mergePatch } from "../../core/merge-patch";
import { KEY_PATTERN, type EnvironmentDoc, type Flag } from "../../core/model";
import { baseSplit, checkSteps, serveAt, type PlanStep } from "../../core/rollout-plan";
import type { Actor, StoreFailure, StoreResult } from "../../core/wire/store-rpc";
import * as cr from "./change-requests";
import * as crRepo from "./change-requests-repo";
import { applyDoc, summarize, unstore } from "../environment/document-rows";
import type { Change, ChangePlanner, Gate, Writer } from "../environment/change";
import { appendEvent } from "../environment/events-repo";
import { flagPosition, getFlag, writeFlag } from "../environment/flags-repo";
import { randomId } from "../secrets";
import type { Meta } from "../environment/meta-repo";
import * as plans from "./plans-repo";
import { conflict, done, invalid, notFound } from "../results";
import type { ChangeRequestInfo, ChangeRequestPage, PlanAction, PlanInfo, Policy, ReviewAction, ReviewPrincipals, ScheduleInfo } from "../../core/wire/releases-rpc";
import * as schedules from "./schedules-repo";
import type { Sql } from "../sql";
import { MAX_FLAG_JSON, optionalNumber, parseFlag } from "../environment/validate";

/** What the store lends: its SQL, its liveness check, its one write path and its alarm. */
export interface ReleaseHost extends Writer {
  readonly sql: Sql;
  live(): StoreResult<Meta>;
  transaction(fn: () => void): void;
  armAlarm(): Promise<void>;
}

/** A schedule's `at` may lie this far in the past (clock skew, a slow request); earlier is refused. */
export const SCHEDULE_PAST_TOLERANCE_MS = 60_000;
export const MAX_APPROVALS = 10;

const message = (f: StoreFailure): string => {
  const e = f.error;
  if (e.code === "invalid") return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  return "message" in e ? e.message : e.code;
};

const iso = (ms: number) => new Date(ms).toISOString();

export class Releases {
  constructor(private readonly host: ReleaseHost) {}

  private get sql(): Sql {
    return this.host.sql;
  }

  /** When the alarm is next needed for a schedule or a plan step (ms), or undefined. */
  nextAt(): number | undefined {
    const a = schedules.nextScheduleAt(this.sql);
    const b = plans.nextPlanAt(this.sql);
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** The alarm's part: applies every due schedule, then every due plan step. Never throws. */
  async runDue(now = Date.now()): Promise<void> {
    if (!this.host.live().ok) return;
    for (const schedule of schedules.dueSchedules(this.sql, now)) {
      try { await this.applySchedule(schedule); } catch (err) { console.error(`schedule ${schedule.id} failed to apply`, err); }
    }
    for (const plan of plans.duePlans(this.sql, now)) {
      try { await this.advancePlan(plan); } catch (err) { console.error(`plan of ${plan.flag} failed to advance`, err); }
    }
  }

  /** Forgets schedules, plans and requests (the environment is deleted); their events stay in the history. Call inside a transaction. */
  clear(): void {
    schedules.clearSchedules(this.sql);
    plans.clearPlans(this.sql);
    crRepo.clearChangeRequests(this.sql);
  }

  // ---- scheduled changes ----------------------------------------------------------------------

  async createSchedule(input: { at: string; flag: string; patch: unknown }, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<ScheduleInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const checked = this.checkSchedule(input);
    if (!checked.ok) return checked;
    if (gate === "policy") {
      const held = cr.holdAction(this.sql, actor, live.value, { type: "schedule.create", input }, { kind: "schedule", key: input.flag, action: "create", after: { at: iso(checked.value), patch: input.patch } });
      if (held) return held;
    }
    const id = randomId("sch_");
    const created = new Date().toISOString();
    this.host.transaction(() => {
      schedules.insertSchedule(this.sql, { id, at: checked.value, flag: input.flag, patch: input.patch, created, createdBy: String(actor) });
      appendEvent(this.sql, { version: live.value.version, actor: String(actor), operation: "schedule.create", target: input.flag, diff: { schedule: id, at: iso(checked.value), patch: input.patch } });
    });
    await this.host.armAlarm();
    return done(schedules.getSchedule(this.sql, id)!);
  }

  /** The time of a valid schedule (ms), its patch tried on the flag as it is now. */
  private checkSchedule(input: { at: string; flag: string; patch: unknown }): StoreResult<number> {
    const at = typeof input?.at === "string" ? Date.parse(input.at) : NaN;
    if (!Number.isFinite(at)) return invalid([{ path: "at", message: "must be an ISO 8601 time" }]);
    if (at < Date.now() - SCHEDULE_PAST_TOLERANCE_MS) return invalid([{ path: "at", message: "is more than a minute in the past" }]);
    if (typeof input.flag !== "string" || !KEY_PATTERN.test(input.flag)) return invalid([{ path: "flag", message: "must be a flag key" }]);
    const patch = input.patch;
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return invalid([{ path: "patch", message: "must be a JSON Merge Patch object of the flag" }]);
    const shape = checkJsonShape(patch, DOCUMENT_LIMITS, "patch");
    if (shape) return invalid([shape]);
    if (JSON.stringify(patch).length > MAX_FLAG_JSON) return invalid([{ path: "patch", message: `larger than ${MAX_FLAG_JSON} bytes` }]);
    if (schedules.countPending(this.sql) >= schedules.MAX_PENDING_SCHEDULES) return invalid([{ path: "", message: `at most ${schedules.MAX_PENDING_SCHEDULES} pending schedules per environment` }]);
    if (!getFlag(this.sql, input.flag)) return invalid([{ path: "flag", message: `no flag "${input.flag}" in this environment` }]);
    // The change it would make now, validated whole as applying it will be (the flag in its environment).
    const tried = this.host.check(this.scheduleChange({ id: "", flag: input.flag, patch, createdBy: "" }));
    if (tried.ok) return done(at);
    if (tried.error.code !== "invalid") return tried;
    const own = `flags.${input.flag}.`;
    return invalid(tried.error.issues.map((i) => (i.path.startsWith(own) ? { ...i, path: `patch.${i.path.slice(own.length)}` } : i)));
  }

  async listSchedules(): Promise<StoreResult<ScheduleInfo[]>> {
    const live = this.host.live();
    return live.ok ? done(schedules.listSchedules(this.sql)) : live;
  }

  async cancelSchedule(id: string, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<ScheduleInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const schedule = typeof id === "string" ? schedules.getSchedule(this.sql, id) : undefined;
    if (!schedule) return notFound(`no schedule "${id}"`);
    if (schedule.status !== "pending") return conflict(`schedule "${id}" is ${schedule.status}, not pending`);
    if (gate === "policy") {
      const held = cr.holdAction(this.sql, actor, live.value, { type: "schedule.cancel", id }, { kind: "schedule", key: schedule.flag, action: "cancel", before: { id, at: schedule.at, patch: schedule.patch } });
      if (held) return held;
    }
    this.host.transaction(() => {
      schedules.closeSchedule(this.sql, id, "cancelled", new Date().toISOString(), { by: String(actor) });
      appendEvent(this.sql, { version: live.value.version, actor: String(actor), operation: "schedule.cancel", target: schedule.flag, diff: { schedule: id } });
    });
    return done(schedules.getSchedule(this.sql, id)!);
  }

  /** One version, or the schedule marked failed with the reason (never half applied: one transaction). */
  private async applySchedule(schedule: ScheduleInfo): Promise<void> {
    const result = await this.host.mutate(schedule.createdBy, this.scheduleChange(schedule), "approved");
    if (result.ok) return;
    const meta = this.host.live();
    if (!meta.ok) return;
    const error = message(result);
    this.host.transaction(() => {
      schedules.closeSchedule(this.sql, schedule.id, "failed", new Date().toISOString(), { error });
      appendEvent(this.sql, { version: meta.value.version, actor: schedule.createdBy, operation: "schedule.fail", target: schedule.flag, diff: { schedule: schedule.id, error } });
    });
  }

  /** What a schedule does when it applies: one version with its patch on the flag as it is then. Tried at creation too. */
  private scheduleChange(schedule: { id: string; flag: string; patch: unknown; createdBy: string }): ChangePlanner<number> {
    return (current) => {
      const existing = getFlag(this.sql, schedule.flag);
      if (!existing) return notFound(`flag "${schedule.flag}" no longer exists`);
      const before = unstore(existing);
      const patched = patchFlag(before, schedule.patch);
      if (!patched.ok) return patched;
      const flag = patched.value;
      const position = flagPosition(this.sql, flag.key)!;
      return done({
        operation: "schedule.apply", target: flag.key, touchedFlags: [flag.key],
        next: { ...current, flags: current.flags.map((f) => (f.key === flag.key ? flag : f)) },
        write: (v: number) => {
          writeFlag(this.sql, flag, position, v);
          schedules.closeSchedule(this.sql, schedule.id, "applied", new Date().toISOString(), { version: v });
          return { schedule: schedule.id, createdBy: schedule.createdBy, before, after: flag };
        },
        answer: (v: number) => v,
      });
    };
  }

  // ---- progressive rollouts -------------------------------------------------------------------

  async putPlan(flagKey: string, input: { variant: string; steps: PlanStep[] }, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<PlanInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const checked = this.checkPlan(flagKey, input);
    if (!checked.ok) return checked;
    if (gate === "policy") {
      const held = cr.holdAction(this.sql, actor, live.value, { type: "plan.put", flag: flagKey, input },
        { kind: "plan", key: flagKey, action: "start", before: checked.value.fallthrough ?? null, after: input }, [[flagKey, checked.value.version]]);
      if (held) return held;
    }
    const result = await this.host.mutate(actor, (current) => {
      const again = this.checkPlan(flagKey, input);
      if (!again.ok) return again;
      const before = unstore(again.value);
      const base = baseSplit(before, input.variant);
      if (!base.ok) return invalid(base.errors);
      const serving = serveAt(base.value, input.variant, input.steps[0]!.percent);
      const now = Date.now();
      const last = input.steps.length === 1;
      const plan: plans.StoredPlan = {
        flag: flagKey, variant: input.variant, steps: input.steps, status: last ? "completed" : "running", step: 1, percent: input.steps[0]!.percent,
        ...(last ? {} : { nextAt: iso(now + input.steps[0]!.waitSeconds * 1000) }),
        createdBy: String(actor), createdAt: iso(now), updatedAt: iso(now), versions: [],
        ...(before.fallthrough === undefined ? {} : { before: before.fallthrough }),
        base: base.value, serving,
      };
      return done(this.planChange(current, before, { ...before, fallthrough: serving }, "plan.start", plan));
    }, "approved");
    if (result.ok) await this.host.armAlarm();
    return result;
  }

  /** The flag a plan may start on (no plan running or paused on it), with a valid body. */
  private checkPlan(flagKey: string, input: { variant: string; steps: PlanStep[] }): StoreResult<Flag & { version: number }> {
    const issues = checkSteps(Array.isArray(input?.steps) ? input.steps : []);
    if (issues.length > 0) return invalid(issues);
    const flag = getFlag(this.sql, flagKey);
    if (!flag) return notFound(`no flag "${flagKey}"`);
    const existing = plans.getPlan(this.sql, flagKey);
    if (existing && (existing.status === "running" || existing.status === "paused")) return conflict(`flag "${flagKey}" already has a ${existing.status} plan: abort it first`);
    const base = baseSplit(flag, input.variant);
    return base.ok ? done(flag) : invalid(base.errors);
  }

  /** One version: the flag with its new fallthrough, and the plan saved in the same transaction. */
  private planChange(current: EnvironmentDoc, before: Flag, after: Flag, operation: string, plan: plans.StoredPlan): Change<PlanInfo> {
    const position = flagPosition(this.sql, after.key)!;
    let saved = plan;
    return {
      operation, target: after.key,
      next: { ...current, flags: current.flags.map((f) => (f.key === after.key ? after : f)) },
      write: (v) => {
        writeFlag(this.sql, after, position, v);
        saved = { ...plan, versions: [...plan.versions, v] };
        plans.savePlan(this.sql, saved);
        return { plan: { variant: plan.variant, step: plan.step, percent: plan.percent, status: plan.status }, before, after };
      },
      answer: () => plans.publicPlan(saved),
    };
  }

  async getPlan(flagKey: string): Promise<StoreResult<PlanInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const plan = plans.getPlan(this.sql, flagKey);
    return plan ? done(plans.publicPlan(plan)) : notFound(`flag "${flagKey}" has no plan`);
  }

  async controlPlan(flagKey: string, action: PlanAction, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<PlanInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const plan = plans.getPlan(this.sql, flagKey);
    if (!plan) return notFound(`flag "${flagKey}" has no plan`);
    const allowed = action === "pause" ? plan.status === "running" : action === "resume" ? plan.status === "paused" : plan.status === "running" || plan.status === "paused";
    if (!allowed) return conflict(`the plan of flag "${flagKey}" is ${plan.status}: it cannot ${action}`);
    if (gate === "policy") {
      const held = cr.holdAction(this.sql, actor, live.value, { type: "plan.control", flag: flagKey, action }, { kind: "plan", key: flagKey, action, before: { status: plan.status, step: plan.step } });
      if (held) return held;
    }
    if (action === "abort") return this.abortPlan(plan, actor, "plan.abort");
    const now = Date.now();
    const next = action === "pause" ? paused(plan, now) : resumed(plan, now);
    this.host.transaction(() => {
      plans.savePlan(this.sql, next);
      appendEvent(this.sql, { version: live.value.version, actor: String(actor), operation: `plan.${action}`, target: flagKey, diff: { step: plan.step, percent: plan.percent } });
    });
    if (action === "resume") await this.host.armAlarm();
    return done(plans.publicPlan(next));
  }

  /** The alert hook: every running plan paused, with `reason` in the audit log. */
  async pauseRunningPlans(reason: string, actor: Actor): Promise<StoreResult<{ paused: string[] }>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const now = Date.now();
    const running = plans.runningPlans(this.sql);
    this.host.transaction(() => {
      for (const plan of running) {
        plans.savePlan(this.sql, paused(plan, now));
        appendEvent(this.sql, { version: live.value.version, actor: String(actor), operation: "plan.pause", target: plan.flag, diff: { step: plan.step, percent: plan.percent, reason: String(reason) } });
      }
    });
    return done({ paused: running.map((p) => p.flag) });
  }

  /** Restores the fallthrough the flag had before the plan (one version), or only closes the plan when the flag is gone. */
  private async abortPlan(plan: plans.StoredPlan, actor: Actor, operation: string, reason?: string): Promise<StoreResult<PlanInfo>> {
    const { nextAt: _n, remainingMs: _r, ...rest } = plan;
    const aborted: plans.StoredPlan = { ...rest, status: "aborted", updatedAt: iso(Date.now()), ...(reason === undefined ? {} : { reason }) };
    const flag = getFlag(this.sql, plan.flag);
    if (!flag || reason !== undefined) {
      const meta = this.host.live();
      if (!meta.ok) return meta;
      this.host.transaction(() => {
        plans.savePlan(this.sql, aborted);
        appendEvent(this.sql, { version: meta.value.version, actor: String(actor), operation, target: plan.flag, diff: { step: plan.step, reason: reason ?? "flag deleted" } });
      });
      return done(plans.publicPlan(aborted));
    }
    return this.host.mutate(actor, (current) => {
      const existing = getFlag(this.sql, plan.flag);
      if (!existing) return notFound(`no flag "${plan.flag}"`);
      const before = unstore(existing);
      const { fallthrough: _f, ...withoutFallthrough } = before;
      const restored: Flag = plan.before === undefined ? withoutFallthrough : { ...before, fallthrough: plan.before };
      return done(this.planChange(current, before, restored, operation, aborted));
    }, "approved");
  }

  /** The next step, or the plan stopped when someone else changed the flag's fallthrough meanwhile. */
  private async advancePlan(plan: plans.StoredPlan): Promise<void> {
    const flag = getFlag(this.sql, plan.flag);
    if (!flag) { await this.abortPlan(plan, plan.createdBy, "plan.stop", "the flag was deleted"); return; }
    if (JSON.stringify(flag.fallthrough ?? null) !== JSON.stringify(plan.serving)) {
      await this.abortPlan(plan, plan.createdBy, "plan.stop", "the flag's fallthrough was changed outside the plan");
      return;
    }
    const index = plan.step; // the next step, 0-based
    const step = plan.steps[index]!;
    const last = index === plan.steps.length - 1;
    const now = Date.now();
    const serving = serveAt(plan.base, plan.variant, step.percent);
    const { nextAt: _n, ...rest } = plan;
    const next: plans.StoredPlan = {
      ...rest, step: index + 1, percent: step.percent, status: last ? "completed" : "running", serving, updatedAt: iso(now),
      ...(last ? {} : { nextAt: iso(now + step.waitSeconds * 1000) }),
    };
    const result = await this.host.mutate(plan.createdBy, (current) => {
      const before = unstore(getFlag(this.sql, plan.flag)!);
      return done(this.planChange(current, before, { ...before, fallthrough: serving }, "plan.step", next));
    }, "approved");
    if (!result.ok) await this.abortPlan(plan, plan.createdBy, "plan.stop", `step ${index + 1} could not apply: ${message(result)}`);
  }

  // ---- policy and change requests -------------------------------------------------------------

  async getPolicy(): Promise<StoreResult<Policy>> {
    const live = this.host.live();
    return live.ok ? done({ approvals: crRepo.readApprovals(this.sql) }) : live;
  }

  async putPolicy(policy: Policy, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<Policy>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const approvals = policy?.approvals;
    if (!Number.isInteger(approvals) || approvals < 0 || approvals > MAX_APPROVALS) return invalid([{ path: "approvals", message: `must be a whole number from 0 to ${MAX_APPROVALS}` }]);
    const before = crRepo.readApprovals(this.sql);
    if (gate === "policy") {
      const held = cr.holdAction(this.sql, actor, live.value, { type: "policy.put", approvals }, { kind: "policy", action: "change", before: { approvals: before }, after: { approvals } });
      if (held) return held;
    }
    this.host.transaction(() => {
      crRepo.writeApprovals(this.sql, approvals);
      appendEvent(this.sql, { version: live.value.version, actor: String(actor), operation: "policy.put", diff: { before: { approvals: before }, after: { approvals } } });
    });
    return done({ approvals });
  }

  async listChangeRequests(options: ChangeRequestPage = {}): Promise<StoreResult<{ changeRequests: ChangeRequestInfo[]; next?: number }>> {
    const live = this.host.live();
    return live.ok ? done(crRepo.pageChangeRequests(this.sql, options?.status, optionalNumber(options?.before), optionalNumber(options?.limit))) : live;
  }

  async getChangeRequest(id: string): Promise<StoreResult<ChangeRequestInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const info = crRepo.getChangeRequest(this.sql, id);
    return info ? done(info) : notFound(`no change request "${id}"`);
  }

  /**
   * approve (not by its creator's principal; at the required count it applies), reject (not by
   * its creator's principal), withdraw (by its creator's principal only). Each principal approves
   * at most once, whichever of its tokens it uses. A request that can no longer apply answers
   * status `conflict`.
   */
  async reviewChangeRequest(id: string, action: ReviewAction, actor: Actor, principals?: ReviewPrincipals): Promise<StoreResult<ChangeRequestInfo>> {
    const live = this.host.live();
    if (!live.ok) return live;
    const info = crRepo.getChangeRequest(this.sql, id);
    if (!info) return notFound(`no change request "${id}"`);
    if (info.status !== "pending") return conflict(`change request "${id}" is ${info.status}`);
    const who = String(actor);
    const known = new Map(Array.isArray(principals?.known) ? principals.known : []);
    const principalOf = (a: string) => known.get(a) ?? a;
    const me = typeof principals?.principal === "string" ? principals.principal : who;
    const creator = principalOf(info.createdBy);
    const mine = me === creator;
    const acting = who === me ? `"${me}"` : `${who} (acting for "${me}")`;
    if (action === "withdraw" && !mine) return { ok: false, error: { code: "forbidden", message: `only the creator of a change request ("${creator}") may withdraw it, not ${acting}` } };
    if (action !== "withdraw" && mine) return { ok: false, error: { code: "forbidden", message: `the creator of a change request may not ${action} it: ${acting} is the principal that made it` } };
    if (action === "approve" && info.approvals.some((a) => (a.principal ?? principalOf(a.actor)) === me)) return conflict(`change request "${id}" is already approved by "${me}"`);
    const event = (operation: string, diff: unknown, version = live.value.version) =>
      appendEvent(this.sql, { version, actor: who, operation, target: id, diff });
    if (action !== "approve") {
      const next = cr.closed(info, action === "reject" ? "rejected" : "withdrawn", who);
      this.host.transaction(() => { crRepo.updateChangeRequest(this.sql, next); event(`changeRequest.${action}`, { operation: info.operation }); });
      return done(next);
    }
    const approved: ChangeRequestInfo = { ...info, approvals: [...info.approvals, { actor: who, principal: me, at: new Date().toISOString() }] };
    this.host.transaction(() => { crRepo.updateChangeRequest(this.sql, approved); event("changeRequest.approve", { approvals: approved.approvals.length, required: info.required }); });
    if (approved.approvals.length < info.required) return done(approved);
    return this.applyChangeRequest(approved, who);
  }

  private async applyChangeRequest(info: ChangeRequestInfo, approver: string): Promise<StoreResult<ChangeRequestInfo>> {
    const payload = crRepo.readPayload<cr.Payload>(this.sql, info.id);
    const applied = (version: number) => cr.closed(info, "applied", approver, { version });
    let result: StoreResult<ChangeRequestInfo>;
    const meta = this.host.live();
    if (!meta.ok) return meta;
    const stale = cr.staleBase(this.sql, meta.value, payload);
    if (stale) result = stale;
    else if (payload.type === "doc") {
      result = await this.host.mutate(info.createdBy, (current, m) => {
        const again = cr.staleBase(this.sql, m, payload);
        if (again) return again;
        const next = cr.appliedDoc(current, payload);
        return done({
          operation: payload.operation, ...(payload.target === undefined ? {} : { target: payload.target }), next,
          write: (v: number) => {
            const summary = summarize(applyDoc(this.sql, current, next, v));
            crRepo.updateChangeRequest(this.sql, applied(v));
            return cr.appliedDiff(current, payload, info, summary);
          },
          answer: (v: number) => applied(v),
        });
      }, "approved");
    } else {
      const done_ = await this.runAction(payload.action, info.createdBy);
      if (done_.ok) {
        const now = this.host.live();
        const version = now.ok ? now.value.version : meta.value.version;
        const closedInfo = applied(version);
        this.host.transaction(() => crRepo.updateChangeRequest(this.sql, closedInfo));
        result = done(closedInfo);
      } else result = done_;
    }
    if (result.ok) return result;
    if (result.error.code !== "conflict" && result.error.code !== "invalid" && result.error.code !== "not_found") return result;
    // Based on something that changed or no longer validates: closed as a conflict, nothing applied.
    const error = message(result);
    const now = this.host.live();
    const conflicted = cr.closed(info, "conflict", approver, { error });
    this.host.transaction(() => {
      crRepo.updateChangeRequest(this.sql, conflicted);
      appendEvent(this.sql, { version: now.ok ? now.value.version : meta.value.version, actor: approver, operation: "changeRequest.conflict", target: info.id, diff: { error } });
    });
    return done(conflicted);
  }

  /** A held call, repeated past the policy gate as its creator. */
  private async runAction(action: cr.HeldAction, actor: Actor): Promise<StoreResult<unknown>> {
    switch (action.type) {
      case "schedule.create": return this.createSchedule(action.input, actor, "approved");
      case "schedule.cancel": return this.cancelSchedule(action.id, actor, "approved");
      case "plan.put": return this.putPlan(action.flag, action.input, actor, "approved");
      case "plan.control": return this.controlPlan(action.flag, action.action, actor, "approved");
      case "policy.put": return this.putPolicy({ approvals: action.approvals }, actor, "approved");
    }
  }
}

/** A running plan paused: it keeps how long its current step still had to hold. */
function paused(plan: plans.StoredPlan, now: number): plans.StoredPlan {
  const { nextAt: _n, ...rest } = plan;
  return { ...rest, status: "paused", remainingMs: Math.max(0, Date.parse(plan.nextAt!) - now), updatedAt: iso(now) };
}

/** A paused plan running again: its step holds for the rest of its wait, from now. */
function resumed(plan: plans.StoredPlan, now: number): plans.StoredPlan {
  const { remainingMs: _r, ...rest } = plan;
  return { ...rest, status: "running", nextAt: iso(now + (plan.remainingMs ?? 0)), updatedAt: iso(now) };
}

/** The flag with a merge patch applied, validated as a whole flag; its key may not change. */
function patchFlag(flag: Flag, patch: unknown): StoreResult<Flag> {
  const patched = mergePatch(flag, patch) as Record<string, unknown>;
  if (patched.key !== flag.key) return invalid([{ path: "patch.key", message: "a schedule may not change the flag's key" }]);
  const parsed = parseFlag(patched);
  return parsed.ok ? done(parsed.value) : invalid(parsed.errors.map((e) => ({ path: e.path ? `patch.${e.path}` : "patch", message: e.message })));
}
