/**
 * The alerts half of an environment's Durable Object: when to evaluate, the evaluation itself
 * (core/alerts.ts over the insights counters) and what a transition does — its `alert.fired` /
 * `alert.resolved` rows go into the webhook outbox in the same transaction that stores the new
 * states, so an event exists exactly when its transition does, and a restarted object (which reads
 * the states back) never announces one twice. A firing `error-rate` pauses running release plans.
 *
 * Cadence: traffic (a usage batch applied) or a commit asks for an evaluation within
 * `evaluateEverySeconds`; an evaluation keeps that cadence while its window holds requests, an
 * environment alert fires (with data: one in `no-data` waits for the next usage batch, which asks
 * for an evaluation) or KV lags the store. Otherwise the next evaluation is when the next
 * flag could turn stale with nothing happening (lifecycle.ts `staleAt`), or none at all: an idle
 * environment whose flags are all stale or permanent sets no alarm for alerts.
 * @module
 */
import {
  alertCondition,
  alertEvent,
  alertSettings,
  AlertSettingsPatch,
  ALERT_UNITS,
  anyAlertEnabled,
  environmentAlertFiring,
  evaluateAlerts,
  type AlertSettings,
  type AlertState,
  type AlertTransition,
} from "../../core/alerts";
import { zodIssues } from "../../core/issues";
import type { WebhookEvent } from "../../core/webhook-events";
import type { StoreResult } from "../../core/wire/store-rpc";
import * as repo from "./alerts-repo";
import type { AlertInfo, AlertsOverview } from "../../core/wire/insights-rpc";
import type { Meta } from "../environment/meta-repo";
import { success, invalid, noEnvironment } from "../results";
import type { Sql } from "../sql";
import type { MinuteBucket } from "../../core/wire/insights-rpc";

/** The actor named in the history when an alert pauses release plans. */
export const ALERT_ACTOR = "alert:error-rate";

export interface AlertsHost {
  sql: Sql;
  transaction(fn: () => void): void;
  live(): Meta | undefined;
  /** The insights clock (tests move it). */
  now(): number;
  minutes(count: number, now: number): MinuteBucket[];
  /** When the last usage summary was received (insights clock), if one was. */
  lastDataAt(): number | undefined;
  publishLagSeconds(meta: Meta, now: number): number;
  staleOutlook(): { stale: string[]; nextAt: number | undefined };
  /** Inside the transaction: one outbox row per webhook that wants the event. */
  recordEvent(event: WebhookEvent): void;
  pausePlans(reason: string, actor: string): Promise<unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function alertInfo(s: AlertState): AlertInfo {
  return {
    id: s.id,
    kind: s.kind,
    ...(s.flag === undefined ? {} : { flag: s.flag }),
    state: alertCondition(s),
    firing: s.firing,
    since: iso(s.since),
    ...(s.noDataSince === undefined ? {} : { noDataSince: iso(s.noDataSince) }),
    value: s.value,
    threshold: s.threshold,
    unit: ALERT_UNITS[s.kind],
    ...(s.requests === undefined ? {} : { requests: s.requests }),
    evaluatedAt: iso(s.evaluatedAt),
  };
}

export class StoreAlerts {
  constructor(private readonly host: AlertsHost) {}

  list(): StoreResult<AlertsOverview> {
    if (!this.host.live()) return noEnvironment;
    const next = repo.nextEvaluationAt(this.host.sql);
    const lastData = this.host.lastDataAt();
    return success({
      alerts: repo.readAlertStates(this.host.sql).map(alertInfo),
      nextEvaluationAt: next === undefined ? null : iso(next),
      lastDataAt: lastData === undefined ? null : iso(lastData),
    });
  }

  settings(): StoreResult<AlertSettings> {
    if (!this.host.live()) return noEnvironment;
    return success(this.current());
  }

  /** Merges a partial update; the next evaluation is due at once (the caller arms the alarm). */
  setSettings(patch: unknown): StoreResult<AlertSettings> {
    if (!this.host.live()) return noEnvironment;
    const parsed = AlertSettingsPatch.safeParse(patch);
    if (!parsed.success) return invalid(zodIssues(parsed.error.issues));
    const next = alertSettings(repo.readAlertSettings(this.host.sql), parsed.data);
    this.host.transaction(() => {
      repo.writeAlertSettings(this.host.sql, next);
      repo.setNextEvaluation(this.host.sql, this.host.now());
    });
    return success(next);
  }

  /** When the alarm should evaluate next, if it should. */
  dueAt(): number | undefined {
    return repo.nextEvaluationAt(this.host.sql);
  }

  /**
   * Something happened (traffic, a commit): evaluate within one cadence. Answers whether the due
   * time moved earlier, i.e. whether the caller must re-arm the alarm.
   */
  soon(): boolean {
    if (!this.host.live()) return false;
    const settings = this.current();
    if (!anyAlertEnabled(settings)) return false;
    const at = this.host.now() + settings.evaluateEverySeconds * 1000;
    const due = repo.nextEvaluationAt(this.host.sql);
    if (due !== undefined && due <= at) return false;
    repo.setNextEvaluation(this.host.sql, at);
    return true;
  }

  /** The alarm's part: evaluates when due. Answers whether events were written to the outbox. */
  async runDue(): Promise<boolean> {
    const due = repo.nextEvaluationAt(this.host.sql);
    if (due === undefined || due > this.host.now()) return false;
    return (await this.evaluate()).length > 0;
  }

  /** One evaluation now, whatever the schedule (tests call it directly). Answers the transitions. */
  async evaluate(): Promise<AlertTransition[]> {
    const meta = this.host.live();
    if (!meta) {
      repo.setNextEvaluation(this.host.sql, undefined);
      return [];
    }
    const settings = this.current();
    const now = this.host.now();
    const minutes = this.host.minutes(settings.windowMinutes, now);
    const outlook = this.host.staleOutlook();
    const previous = repo.readAlertStates(this.host.sql);
    const result = evaluateAlerts(
      {
        now,
        minutes,
        publishLagSeconds: this.host.publishLagSeconds(meta, now),
        staleFlags: outlook.stale,
        lastDataAt: this.host.lastDataAt() ?? null,
      },
      settings,
      previous,
    );
    const busy =
      result.truncated ||
      environmentAlertFiring(result.states) ||
      meta.publishedVersion < meta.version ||
      minutes.some((m) => m.requests > 0);
    const next = !anyAlertEnabled(settings)
      ? undefined
      : busy
        ? now + settings.evaluateEverySeconds * 1000
        : settings.alerts["flag-stale"].enabled
          ? outlook.nextAt
          : undefined;
    this.host.transaction(() => {
      repo.writeAlertStates(this.host.sql, previous, result.states);
      repo.setNextEvaluation(this.host.sql, next);
      for (const t of result.transitions) this.host.recordEvent(alertEvent(meta.name, t, settings));
    });
    const fired = result.transitions.find((t) => t.type === "alert.fired" && t.alert.kind === "error-rate");
    if (fired && settings.pausePlansOnErrorRate) {
      const a = fired.alert;
      const reason = `alert error-rate fired: ${a.value}% 5xx over ${settings.windowMinutes} min (threshold ${a.threshold}%)`;
      try {
        await this.host.pausePlans(reason, ALERT_ACTOR);
      } catch (err) {
        console.error("alerts: pausing release plans failed", err);
      }
    }
    return result.transitions;
  }

  private current(): AlertSettings {
    return alertSettings(repo.readAlertSettings(this.host.sql));
  }
}
