/**
 * Scheduled changes: a merge patch of one flag, applied by the DO alarm at its time as one version
 * through the write path (validated whole, audited, published like any write), or marked failed
 * with the reason. Creating and cancelling one make no version: they are history events.
 * @module
 */
import { checkJsonShape, DOCUMENT_LIMITS } from "../../core/limits";
import { mergePatch } from "../../core/merge-patch";
import { KEY_PATTERN, type Flag } from "../../core/model";
import type { ScheduleInfo } from "../../core/wire/releases-rpc";
import type { Actor, StoreResult } from "../../core/wire/store-rpc";
import type { ChangePlanner, Gate } from "../environment/change";
import { unstore } from "../environment/document-rows";
import { appendEvent } from "../environment/events-repo";
import { flagPosition, getFlag, writeFlag } from "../environment/flags-repo";
import { liveMeta } from "../environment/liveness";
import { MAX_FLAG_JSON, parseFlag } from "../environment/validate";
import { conflict, success, failureMessage, invalid, notFound } from "../results";
import { randomId } from "../secrets";
import { holdAction } from "./approval-gate";
import { iso, type ReleaseHost } from "./host";
import * as repo from "./schedules-repo";

/** A schedule's `at` may lie this far in the past (clock skew, a slow request); earlier is refused. */
export const SCHEDULE_PAST_TOLERANCE_MS = 60_000;

export class Schedules {
  constructor(private readonly host: ReleaseHost) {}

  /** When the alarm is next needed for a pending schedule (ms), or undefined. */
  dueAt(): number | undefined {
    return repo.nextScheduleAt(this.host.sql);
  }

  /** The alarm's part: applies every due schedule, in time order. Never throws. */
  async runDue(now = Date.now()): Promise<void> {
    if (!liveMeta(this.host.sql).ok) return;
    for (const schedule of repo.dueSchedules(this.host.sql, now)) {
      try {
        await this.apply(schedule);
      } catch (err) {
        console.error(`schedule ${schedule.id} failed to apply`, err);
      }
    }
  }

  async create(
    input: { at: string; flag: string; patch: unknown },
    actor: Actor,
    gate: Gate = "policy",
  ): Promise<StoreResult<ScheduleInfo>> {
    const { sql } = this.host;
    const live = liveMeta(sql);
    if (!live.ok) return live;
    const checked = this.check(input);
    if (!checked.ok) return checked;
    if (gate === "policy") {
      const held = holdAction(
        sql,
        actor,
        live.value,
        { type: "schedule.create", input },
        { kind: "schedule", key: input.flag, action: "create", after: { at: iso(checked.value), patch: input.patch } },
      );
      if (held) return held;
    }
    const id = randomId("sch_");
    const created = new Date().toISOString();
    this.host.transaction(() => {
      repo.insertSchedule(sql, {
        id,
        at: checked.value,
        flag: input.flag,
        patch: input.patch,
        created,
        createdBy: String(actor),
      });
      appendEvent(sql, {
        version: live.value.version,
        actor: String(actor),
        operation: "schedule.create",
        target: input.flag,
        diff: { schedule: id, at: iso(checked.value), patch: input.patch },
      });
    });
    await this.host.armAlarm();
    return success(repo.getSchedule(sql, id)!);
  }

  async list(): Promise<StoreResult<ScheduleInfo[]>> {
    const live = liveMeta(this.host.sql);
    return live.ok ? success(repo.listSchedules(this.host.sql)) : live;
  }

  async cancel(id: string, actor: Actor, gate: Gate = "policy"): Promise<StoreResult<ScheduleInfo>> {
    const { sql } = this.host;
    const live = liveMeta(sql);
    if (!live.ok) return live;
    const schedule = typeof id === "string" ? repo.getSchedule(sql, id) : undefined;
    if (!schedule) return notFound(`no schedule "${id}"`);
    if (schedule.status !== "pending") return conflict(`schedule "${id}" is ${schedule.status}, not pending`);
    if (gate === "policy") {
      const held = holdAction(
        sql,
        actor,
        live.value,
        { type: "schedule.cancel", id },
        {
          kind: "schedule",
          key: schedule.flag,
          action: "cancel",
          before: { id, at: schedule.at, patch: schedule.patch },
        },
      );
      if (held) return held;
    }
    this.host.transaction(() => {
      repo.closeSchedule(sql, id, "cancelled", new Date().toISOString(), { by: String(actor) });
      appendEvent(sql, {
        version: live.value.version,
        actor: String(actor),
        operation: "schedule.cancel",
        target: schedule.flag,
        diff: { schedule: id },
      });
    });
    return success(repo.getSchedule(sql, id)!);
  }

  /** The time of a valid schedule (ms), its patch tried on the flag as it is now. */
  private check(input: { at: string; flag: string; patch: unknown }): StoreResult<number> {
    const at = typeof input?.at === "string" ? Date.parse(input.at) : NaN;
    if (!Number.isFinite(at)) return invalid([{ path: "at", message: "must be an ISO 8601 time" }]);
    if (at < Date.now() - SCHEDULE_PAST_TOLERANCE_MS)
      return invalid([{ path: "at", message: "is more than a minute in the past" }]);
    if (typeof input.flag !== "string" || !KEY_PATTERN.test(input.flag))
      return invalid([{ path: "flag", message: "must be a flag key" }]);
    const patch = input.patch;
    if (typeof patch !== "object" || patch === null || Array.isArray(patch))
      return invalid([{ path: "patch", message: "must be a JSON Merge Patch object of the flag" }]);
    const shape = checkJsonShape(patch, DOCUMENT_LIMITS, "patch");
    if (shape) return invalid([shape]);
    if (JSON.stringify(patch).length > MAX_FLAG_JSON)
      return invalid([{ path: "patch", message: `larger than ${MAX_FLAG_JSON} bytes` }]);
    if (repo.countPending(this.host.sql) >= repo.MAX_PENDING_SCHEDULES)
      return invalid([
        { path: "", message: `at most ${repo.MAX_PENDING_SCHEDULES} pending schedules per environment` },
      ]);
    if (!getFlag(this.host.sql, input.flag))
      return invalid([{ path: "flag", message: `no flag "${input.flag}" in this environment` }]);
    // The change it would make now, validated whole as applying it will be (the flag in its environment).
    const tried = this.host.check(this.change({ id: "", flag: input.flag, patch, createdBy: "" }));
    if (tried.ok) return success(at);
    if (tried.error.code !== "invalid") return tried;
    const own = `flags.${input.flag}.`;
    return invalid(
      tried.error.issues.map((i) => (i.path.startsWith(own) ? { ...i, path: `patch.${i.path.slice(own.length)}` } : i)),
    );
  }

  /** One version, or the schedule marked failed with the reason (never half applied: one transaction). */
  private async apply(schedule: ScheduleInfo): Promise<void> {
    const result = await this.host.mutate(schedule.createdBy, this.change(schedule), "approved");
    if (result.ok) return;
    const meta = liveMeta(this.host.sql);
    if (!meta.ok) return;
    const error = failureMessage(result);
    this.host.transaction(() => {
      repo.closeSchedule(this.host.sql, schedule.id, "failed", new Date().toISOString(), { error });
      appendEvent(this.host.sql, {
        version: meta.value.version,
        actor: schedule.createdBy,
        operation: "schedule.fail",
        target: schedule.flag,
        diff: { schedule: schedule.id, error },
      });
    });
  }

  /** What a schedule does when it applies: one version with its patch on the flag as it is then. Tried at creation too. */
  private change(schedule: { id: string; flag: string; patch: unknown; createdBy: string }): ChangePlanner<number> {
    const { sql } = this.host;
    return (current) => {
      const existing = getFlag(sql, schedule.flag);
      if (!existing) return notFound(`flag "${schedule.flag}" no longer exists`);
      const before = unstore(existing);
      const patched = patchFlag(before, schedule.patch);
      if (!patched.ok) return patched;
      const flag = patched.value;
      const position = flagPosition(sql, flag.key)!;
      return success({
        operation: "schedule.apply",
        target: flag.key,
        touchedFlags: [flag.key],
        next: { ...current, flags: current.flags.map((f) => (f.key === flag.key ? flag : f)) },
        write: (v: number) => {
          writeFlag(sql, flag, position, v);
          repo.closeSchedule(sql, schedule.id, "applied", new Date().toISOString(), { version: v });
          return { schedule: schedule.id, createdBy: schedule.createdBy, before, after: flag };
        },
        answer: (v: number) => v,
      });
    };
  }
}

/** The flag with a merge patch applied, validated as a whole flag; its key may not change. */
function patchFlag(flag: Flag, patch: unknown): StoreResult<Flag> {
  const patched = mergePatch(flag, patch) as Record<string, unknown>;
  if (patched.key !== flag.key)
    return invalid([{ path: "patch.key", message: "a schedule may not change the flag's key" }]);
  const parsed = parseFlag(patched);
  return parsed.ok
    ? success(parsed.value)
    : invalid(parsed.errors.map((e) => ({ path: e.path ? `patch.${e.path}` : "patch", message: e.message })));
}
