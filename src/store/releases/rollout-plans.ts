/**
 * Rollout plans: a flag's fallthrough moved to a variant in steps (core/rollout-plan.ts), each step
 * one version through the write path, applied by the DO alarm when its wait is over. A plan stops
 * when someone else changes the fallthrough or the flag goes; it can be paused, resumed, aborted
 * (the fallthrough it started from restored), and is paused by a firing error-rate alert.
 * @module
 */
import type { EnvironmentDoc, Flag } from "../../core/model";
import { baseSplit, checkSteps, serveAt, type PlanStep } from "../../core/rollout-plan";
import type { PlanAction, PlanInfo } from "../../core/wire/releases-rpc";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import type { Change, Gate } from "../environment/change";
import { unstore } from "../environment/document-rows";
import { appendEvent } from "../environment/events-repo";
import { flagPosition, getFlag, writeFlag } from "../environment/flags-repo";
import { liveMeta } from "../environment/liveness";
import { conflict, success, failureMessage, invalid, notFound } from "../results";
import type { Sql } from "../sql";
import { holdAction } from "./approval-gate";
import { iso, type ReleaseHost } from "./host";
import * as repo from "./rollout-plans-repo";

export class RolloutPlans {
  constructor(private readonly host: ReleaseHost) {}

  private get sql(): Sql {
    return this.host.sql;
  }

  /** When the alarm is next needed for a running plan's step (ms), or undefined. */
  dueAt(): number | undefined {
    return repo.nextPlanAt(this.sql);
  }

  /** The alarm's part: advances every plan whose step is due. Never throws. */
  async runDue(now = Date.now()): Promise<void> {
    if (!liveMeta(this.sql).ok) return;
    for (const plan of repo.duePlans(this.sql, now)) {
      try {
        await this.advance(plan);
      } catch (err) {
        console.error(`plan of ${plan.flag} failed to advance`, err);
      }
    }
  }

  async put(
    flagKey: string,
    input: { variant: string; steps: PlanStep[] },
    actor: Actor,
    gate: Gate = "policy",
  ): Promise<StoreResult<PlanInfo>> {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    const checked = this.check(flagKey, input);
    if (!checked.ok) return checked;
    if (gate === "policy") {
      const held = holdAction(
        this.sql,
        actor,
        live.value,
        { type: "plan.put", flag: flagKey, input },
        { kind: "plan", key: flagKey, action: "start", before: checked.value.fallthrough ?? null, after: input },
        [[flagKey, checked.value.version]],
      );
      if (held) return held;
    }
    const result = await this.host.mutate(
      actor,
      (current) => {
        const again = this.check(flagKey, input);
        if (!again.ok) return again;
        const before = unstore(again.value);
        const base = baseSplit(before, input.variant);
        if (!base.ok) return invalid(base.errors);
        const serving = serveAt(base.value, input.variant, input.steps[0]!.percent);
        const now = Date.now();
        const last = input.steps.length === 1;
        const plan: repo.StoredPlan = {
          flag: flagKey,
          variant: input.variant,
          steps: input.steps,
          status: last ? "completed" : "running",
          step: 1,
          percent: input.steps[0]!.percent,
          ...(last ? {} : { nextAt: iso(now + input.steps[0]!.waitSeconds * 1000) }),
          createdBy: String(actor),
          createdAt: iso(now),
          updatedAt: iso(now),
          versions: [],
          ...(before.fallthrough === undefined ? {} : { before: before.fallthrough }),
          base: base.value,
          serving,
        };
        return success(this.change(current, before, { ...before, fallthrough: serving }, "plan.start", plan));
      },
      "approved",
    );
    if (result.ok) await this.host.armAlarm();
    return result;
  }

  /** The flag a plan may start on (no plan running or paused on it), with a valid body. */
  private check(
    flagKey: string,
    input: { variant: string; steps: PlanStep[] },
  ): StoreResult<Flag & { version: number }> {
    const issues = checkSteps(Array.isArray(input?.steps) ? input.steps : []);
    if (issues.length > 0) return invalid(issues);
    const flag = getFlag(this.sql, flagKey);
    if (!flag) return notFound(`no flag "${flagKey}"`);
    const existing = repo.getPlan(this.sql, flagKey);
    if (existing && (existing.status === "running" || existing.status === "paused"))
      return conflict(`flag "${flagKey}" already has a ${existing.status} plan: abort it first`);
    const base = baseSplit(flag, input.variant);
    return base.ok ? success(flag) : invalid(base.errors);
  }

  /** One version: the flag with its new fallthrough, and the plan saved in the same transaction. */
  private change(
    current: EnvironmentDoc,
    before: Flag,
    after: Flag,
    operation: string,
    plan: repo.StoredPlan,
  ): Change<PlanInfo> {
    const position = flagPosition(this.sql, after.key)!;
    let saved = plan;
    return {
      operation,
      target: after.key,
      next: { ...current, flags: current.flags.map((f) => (f.key === after.key ? after : f)) },
      write: (v) => {
        writeFlag(this.sql, after, position, v);
        saved = { ...plan, versions: [...plan.versions, v] };
        repo.savePlan(this.sql, saved);
        return {
          plan: { variant: plan.variant, step: plan.step, percent: plan.percent, status: plan.status },
          before,
          after,
        };
      },
      answer: () => repo.publicPlan(saved),
    };
  }

  async get(flagKey: string): Promise<StoreResult<PlanInfo>> {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    const plan = repo.getPlan(this.sql, flagKey);
    return plan ? success(repo.publicPlan(plan)) : notFound(`flag "${flagKey}" has no plan`);
  }

  async control(
    flagKey: string,
    action: PlanAction,
    actor: Actor,
    gate: Gate = "policy",
  ): Promise<StoreResult<PlanInfo>> {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    const plan = repo.getPlan(this.sql, flagKey);
    if (!plan) return notFound(`flag "${flagKey}" has no plan`);
    const allowed =
      action === "pause"
        ? plan.status === "running"
        : action === "resume"
          ? plan.status === "paused"
          : plan.status === "running" || plan.status === "paused";
    if (!allowed) return conflict(`the plan of flag "${flagKey}" is ${plan.status}: it cannot ${action}`);
    if (gate === "policy") {
      const held = holdAction(
        this.sql,
        actor,
        live.value,
        { type: "plan.control", flag: flagKey, action },
        { kind: "plan", key: flagKey, action, before: { status: plan.status, step: plan.step } },
      );
      if (held) return held;
    }
    if (action === "abort") return this.abort(plan, actor, "plan.abort");
    const now = Date.now();
    const next = action === "pause" ? paused(plan, now) : resumed(plan, now);
    this.host.transaction(() => {
      repo.savePlan(this.sql, next);
      appendEvent(this.sql, {
        version: live.value.version,
        actor: String(actor),
        operation: `plan.${action}`,
        target: flagKey,
        diff: { step: plan.step, percent: plan.percent },
      });
    });
    if (action === "resume") await this.host.armAlarm();
    return success(repo.publicPlan(next));
  }

  /** The alert hook: every running plan paused, with `reason` in the audit log. */
  async pauseRunning(reason: string, actor: Actor): Promise<StoreResult<{ paused: string[] }>> {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    const now = Date.now();
    const running = repo.runningPlans(this.sql);
    this.host.transaction(() => {
      for (const plan of running) {
        repo.savePlan(this.sql, paused(plan, now));
        appendEvent(this.sql, {
          version: live.value.version,
          actor: String(actor),
          operation: "plan.pause",
          target: plan.flag,
          diff: { step: plan.step, percent: plan.percent, reason: String(reason) },
        });
      }
    });
    return success({ paused: running.map((p) => p.flag) });
  }

  /** Restores the fallthrough the flag had before the plan (one version), or only closes the plan when the flag is gone. */
  private async abort(
    plan: repo.StoredPlan,
    actor: Actor,
    operation: string,
    reason?: string,
  ): Promise<StoreResult<PlanInfo>> {
    const { nextAt: _n, remainingMs: _r, ...rest } = plan;
    const aborted: repo.StoredPlan = {
      ...rest,
      status: "aborted",
      updatedAt: iso(Date.now()),
      ...(reason === undefined ? {} : { reason }),
    };
    const flag = getFlag(this.sql, plan.flag);
    if (!flag || reason !== undefined) {
      const meta = liveMeta(this.sql);
      if (!meta.ok) return meta;
      this.host.transaction(() => {
        repo.savePlan(this.sql, aborted);
        appendEvent(this.sql, {
          version: meta.value.version,
          actor: String(actor),
          operation,
          target: plan.flag,
          diff: { step: plan.step, reason: reason ?? "flag deleted" },
        });
      });
      return success(repo.publicPlan(aborted));
    }
    return this.host.mutate(
      actor,
      (current) => {
        const existing = getFlag(this.sql, plan.flag);
        if (!existing) return notFound(`no flag "${plan.flag}"`);
        const before = unstore(existing);
        const { fallthrough: _f, ...withoutFallthrough } = before;
        const restored: Flag = plan.before === undefined ? withoutFallthrough : { ...before, fallthrough: plan.before };
        return success(this.change(current, before, restored, operation, aborted));
      },
      "approved",
    );
  }

  /** The next step, or the plan stopped when someone else changed the flag's fallthrough meanwhile. */
  private async advance(plan: repo.StoredPlan): Promise<void> {
    const flag = getFlag(this.sql, plan.flag);
    if (!flag) {
      await this.abort(plan, plan.createdBy, "plan.stop", "the flag was deleted");
      return;
    }
    if (JSON.stringify(flag.fallthrough ?? null) !== JSON.stringify(plan.serving)) {
      await this.abort(plan, plan.createdBy, "plan.stop", "the flag's fallthrough was changed outside the plan");
      return;
    }
    const index = plan.step; // the next step, 0-based
    const step = plan.steps[index]!;
    const last = index === plan.steps.length - 1;
    const now = Date.now();
    const serving = serveAt(plan.base, plan.variant, step.percent);
    const { nextAt: _n, ...rest } = plan;
    const next: repo.StoredPlan = {
      ...rest,
      step: index + 1,
      percent: step.percent,
      status: last ? "completed" : "running",
      serving,
      updatedAt: iso(now),
      ...(last ? {} : { nextAt: iso(now + step.waitSeconds * 1000) }),
    };
    const result = await this.host.mutate(
      plan.createdBy,
      (current) => {
        const before = unstore(getFlag(this.sql, plan.flag)!);
        return success(this.change(current, before, { ...before, fallthrough: serving }, "plan.step", next));
      },
      "approved",
    );
    if (!result.ok)
      await this.abort(
        plan,
        plan.createdBy,
        "plan.stop",
        `step ${index + 1} could not apply: ${failureMessage(result)}`,
      );
  }
}

/** A running plan paused: it keeps how long its current step still had to hold. */
function paused(plan: repo.StoredPlan, now: number): repo.StoredPlan {
  const { nextAt: _n, ...rest } = plan;
  return { ...rest, status: "paused", remainingMs: Math.max(0, Date.parse(plan.nextAt!) - now), updatedAt: iso(now) };
}

/** A paused plan running again: its step holds for the rest of its wait, from now. */
function resumed(plan: repo.StoredPlan, now: number): repo.StoredPlan {
  const { remainingMs: _r, ...rest } = plan;
  return { ...rest, status: "running", nextAt: iso(now + (plan.remainingMs ?? 0)), updatedAt: iso(now) };
}
