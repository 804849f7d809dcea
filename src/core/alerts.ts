/**
 * The day-one alert set of an environment and its evaluator. Pure: the store passes the facts
 * (per-minute edge counters, publish lag, which flags are stale), the settings, the clock and the
 * previous states; the evaluator answers the new states and the transitions to announce.
 *
 * | alert | value | fires when | resolves when |
 * |---|---|---|---|
 * | `error-rate` | 5xx ÷ requests over the window, % | > threshold (1) with ≥ `minRequests` (100) requests in the window | ≤ threshold × `resolveRatio` (0.8), or the window falls under `minRequests` |
 * | `stale-answers` | last-known-good answers ÷ requests over the window, % | > threshold (0.5), same floor | same rule |
 * | `publish-lag` | seconds since the oldest commit KV does not have yet | > threshold (60) | ≤ threshold × `resolveRatio` |
 * | `flag-stale:<key>` | 1 while the flag is `stale` (lifecycle.ts) | the flag turns stale | it is no longer stale, or is deleted |
 *
 * "Once per transition": an alert that is firing stays quiet until it resolves, and the gap
 * between the firing and the resolving threshold (hysteresis) keeps a rate hovering at the
 * threshold from paging on every evaluation. Below the traffic floor a rate is not judged at all:
 * 1 error in 3 requests pages nobody, and a firing rate alert whose (still arriving) traffic falls
 * under the floor resolves.
 *
 * No data is not "no errors". The edge sends a usage summary only for windows that counted
 * something (src/edge/insights/aggregator.ts opens a window on the first count), so an idle
 * environment and a stopped usage queue look the same from here: no summary arrives. The
 * evaluator therefore judges absence by what was expected: a rate alert that was firing, or whose
 * window held enough traffic to be judged at the previous evaluation, enters the `no-data` state
 * when no summary was received for `noDataAfterSeconds` or its window holds no request at all. It
 * is never resolved by absence: it keeps `firing` as it was (and `since`), announces
 * `alert.no_data` once, and when summaries arrive again announces `alert.data_resumed` and is
 * judged on the real figures (still over the resolve level: firing, no second `alert.fired`; at or
 * under it: `alert.resolved`). An environment too quiet to be judged never enters `no-data`.
 * @module
 */
import * as z from "zod/mini";
import type { WebhookEvent } from "./webhook-events";
import type { AlertSettings } from "./wire/dto/insights";

export const ALERT_KINDS = ["error-rate", "stale-answers", "publish-lag", "flag-stale"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** The alerts with one instance per environment (`flag-stale` has one per flag key). */
export const ENVIRONMENT_ALERTS = ["error-rate", "stale-answers", "publish-lag"] as const;
type EnvironmentAlert = (typeof ENVIRONMENT_ALERTS)[number];

export const UNITS = ["percent", "seconds", "boolean"] as const;
export type AlertUnit = (typeof UNITS)[number];
/** The unit of each alert's `value` and `threshold`. */
export const ALERT_UNITS: Record<AlertKind, AlertUnit> = {
  "error-rate": "percent",
  "stale-answers": "percent",
  "publish-lag": "seconds",
  "flag-stale": "boolean",
};

/** A bound on the flag-stale transitions one evaluation announces (each is one outbox row per webhook); the rest follow at the next. */
export const MAX_FLAG_TRANSITIONS = 100;

/** An environment's alert settings: declared with the other insights answers (wire/dto/insights.ts). */
export type { AlertSettings } from "./wire/dto/insights";

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  windowMinutes: 5,
  minRequests: 100,
  resolveRatio: 0.8,
  evaluateEverySeconds: 60,
  pausePlansOnErrorRate: true,
  noDataAfterSeconds: 120,
  alerts: {
    "error-rate": { enabled: true, threshold: 1 },
    "stale-answers": { enabled: true, threshold: 0.5 },
    "publish-lag": { enabled: true, threshold: 60 },
    "flag-stale": { enabled: true },
  },
};

/** Names the fields a strict object refused (zod's own message is "Invalid input"). */
const strict = {
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === "unrecognized_keys"
      ? `unknown field${issue.keys!.length === 1 ? "" : "s"}: ${issue.keys!.join(", ")}`
      : undefined,
};
const threshold = z.number().check(z.gte(0), z.lte(1e9));
const percent = z.number().check(z.gte(0), z.lte(100));
const rateAlert = z.strictObject({ enabled: z.optional(z.boolean()), threshold: z.optional(percent) }, strict);
/** A partial update of {@link AlertSettings}; unknown fields are refused. */
export const AlertSettingsPatch = z.strictObject(
  {
    windowMinutes: z.optional(z.number().check(z.int(), z.gte(1), z.lte(60))),
    minRequests: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1e9))),
    resolveRatio: z.optional(z.number().check(z.gte(0), z.lte(1))),
    evaluateEverySeconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3600))),
    pausePlansOnErrorRate: z.optional(z.boolean()),
    noDataAfterSeconds: z.optional(z.number().check(z.int(), z.gte(10), z.lte(3600))),
    alerts: z.optional(
      z.strictObject(
        {
          "error-rate": z.optional(rateAlert),
          "stale-answers": z.optional(rateAlert),
          "publish-lag": z.optional(
            z.strictObject({ enabled: z.optional(z.boolean()), threshold: z.optional(threshold) }, strict),
          ),
          "flag-stale": z.optional(z.strictObject({ enabled: z.optional(z.boolean()) }, strict)),
        },
        strict,
      ),
    ),
  },
  strict,
);
export type AlertSettingsPatch = z.infer<typeof AlertSettingsPatch>;

/** Stored settings (possibly partial, from an older shape) over the defaults, with `patch` on top. */
export function alertSettings(
  stored: Partial<AlertSettings> | undefined,
  patch: AlertSettingsPatch = {},
): AlertSettings {
  const base = { ...DEFAULT_ALERT_SETTINGS, ...stored, ...withoutAlerts(patch) };
  const alerts = { ...DEFAULT_ALERT_SETTINGS.alerts } as Record<AlertKind, object>;
  for (const kind of ALERT_KINDS) {
    alerts[kind] = { ...alerts[kind], ...stored?.alerts?.[kind], ...patch.alerts?.[kind] };
  }
  return { ...base, alerts: alerts as AlertSettings["alerts"] };
}

function withoutAlerts(patch: AlertSettingsPatch): Omit<AlertSettingsPatch, "alerts"> {
  const { alerts: _a, ...rest } = patch;
  return rest;
}

/** The counters one minute bucket contributes (usage-repo.ts `MinuteBucket` fits). */
export interface MinuteCounts {
  requests: number;
  status: { "5xx": number };
  stale: number;
}

/** Everything one evaluation looks at, read by the store at time `now` (ms since epoch). */
export interface AlertFacts {
  now: number;
  /** The last `windowMinutes` minute buckets. */
  minutes: readonly MinuteCounts[];
  publishLagSeconds: number;
  /** Keys of the flags whose lifecycle is `stale` now. */
  staleFlags: readonly string[];
  /** When the store last received a usage summary (its own clock), null if it never did. */
  lastDataAt: number | null;
}

/** The state of one alert, as stored and as `GET …/alerts` lists it. Times in ms since epoch. */
export interface AlertState {
  /** The kind, or `flag-stale:<key>`. */
  id: string;
  kind: AlertKind;
  flag?: string;
  firing: boolean;
  /** When it entered its current state (fired, or resolved / first evaluated). */
  since: number;
  /** The last value measured; null when the window held too little traffic to judge. */
  value: number | null;
  threshold: number;
  /** Requests in the window of the last evaluation (rate alerts). */
  requests?: number;
  evaluatedAt: number;
  /**
   * Present while the alert is in the `no-data` state: since when its input has been missing.
   * `firing` and `since` then stay what they were when the data stopped.
   */
  noDataSince?: number;
}

/** What `GET …/alerts` shows as `state`: no-data wins over firing (a firing alert without data is still firing). */
export const ALERT_CONDITIONS = ["ok", "firing", "no-data"] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];
export const alertCondition = (s: AlertState): AlertCondition =>
  s.noDataSince !== undefined ? "no-data" : s.firing ? "firing" : "ok";

export type AlertTransitionType = "alert.fired" | "alert.resolved" | "alert.no_data" | "alert.data_resumed";

export interface AlertTransition {
  type: AlertTransitionType;
  /** The state after the transition; for a resolution, `firedAt` says when it had fired. */
  alert: AlertState;
  firedAt: number;
  /** `alert.no_data` / `alert.data_resumed`: since when the data was missing, and when the last summary came. */
  noData?: { since: number; lastDataAt: number | null };
}

export interface AlertEvaluation {
  /** Every alert state to keep (resolved flag alerts are dropped: a flag key is not a forever row). */
  states: AlertState[];
  transitions: AlertTransition[];
  /** More flag-stale transitions are waiting than one evaluation announces. */
  truncated: boolean;
}

export const flagAlertId = (flag: string) => `flag-stale:${flag}`;

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The window's totals and the two rates (null under the traffic floor). */
export function windowRates(
  minutes: readonly MinuteCounts[],
  minRequests: number,
): { requests: number; errorRate: number | null; staleRate: number | null } {
  let requests = 0;
  let errors = 0;
  let stale = 0;
  for (const m of minutes) {
    requests += m.requests;
    errors += m.status["5xx"];
    stale += m.stale;
  }
  // A floor of 0 still needs one request: no rate of nothing.
  if (requests < Math.max(1, minRequests)) return { requests, errorRate: null, staleRate: null };
  return { requests, errorRate: round((errors / requests) * 100), staleRate: round((stale / requests) * 100) };
}

/**
 * The next states and the transitions to announce. `previous` is what the last evaluation kept
 * (read back from storage, so a restarted object carries on where it was and never re-fires).
 */
export function evaluateAlerts(
  facts: AlertFacts,
  settings: AlertSettings,
  previous: readonly AlertState[],
): AlertEvaluation {
  const before = new Map(previous.map((s) => [s.id, s]));
  const states: AlertState[] = [];
  const transitions: AlertTransition[] = [];
  const { now } = facts;
  const rates = windowRates(facts.minutes, settings.minRequests);
  const measured: Record<EnvironmentAlert, { value: number | null; requests?: number }> = {
    "error-rate": { value: rates.errorRate, requests: rates.requests },
    "stale-answers": { value: rates.staleRate, requests: rates.requests },
    "publish-lag": { value: round(Math.max(0, facts.publishLagSeconds)) },
  };

  const missing = dataMissing(facts, settings, rates.requests);
  for (const kind of ENVIRONMENT_ALERTS) {
    const { enabled, threshold } = settings.alerts[kind];
    const last = before.get(kind);
    const { value, requests } = measured[kind];
    const count = requests === undefined ? {} : { requests };
    const wasFiring = last?.firing === true;
    if (enabled && missing && kind !== "publish-lag" && last && expectsData(last)) {
      // Absence is its own state: firing and since stay as they were, nothing resolves.
      const noDataSince = last.noDataSince ?? now;
      const state: AlertState = {
        id: kind,
        kind,
        firing: wasFiring,
        since: last.since,
        value,
        threshold,
        ...count,
        evaluatedAt: now,
        noDataSince,
      };
      states.push(state);
      if (last.noDataSince === undefined) {
        transitions.push({
          type: "alert.no_data",
          alert: state,
          firedAt: last.since,
          noData: { since: noDataSince, lastDataAt: facts.lastDataAt },
        });
      }
      continue;
    }
    let firing: boolean;
    if (!enabled) firing = false;
    else if (wasFiring) firing = value !== null && value > threshold * settings.resolveRatio;
    else firing = value !== null && value > threshold;
    const changed = firing !== wasFiring;
    const state: AlertState = {
      id: kind,
      kind,
      firing,
      since: changed || !last ? now : last.since,
      value,
      threshold,
      ...count,
      evaluatedAt: now,
    };
    states.push(state);
    // Back from no-data (disabling it just clears it): said before what the real figures say.
    if (enabled && last?.noDataSince !== undefined) {
      transitions.push({
        type: "alert.data_resumed",
        alert: state,
        firedAt: last.since,
        noData: { since: last.noDataSince, lastDataAt: facts.lastDataAt },
      });
    }
    if (changed)
      transitions.push({
        type: firing ? "alert.fired" : "alert.resolved",
        alert: state,
        firedAt: firing ? now : last!.since,
      });
  }

  // Flag staleness: one alert per flag key, announced in key order, at most MAX_FLAG_TRANSITIONS a run.
  const stale = settings.alerts["flag-stale"].enabled ? new Set(facts.staleFlags) : new Set<string>();
  const keys = new Set<string>(stale);
  for (const s of previous) if (s.kind === "flag-stale" && s.flag !== undefined) keys.add(s.flag);
  let flagTransitions = 0;
  let truncated = false;
  for (const flag of [...keys].sort()) {
    const last = before.get(flagAlertId(flag));
    const wasFiring = last?.firing === true;
    const firing = stale.has(flag);
    if (firing === wasFiring) {
      // Kept as it was: an unchanged flag alert costs no row write (there may be thousands).
      if (last && firing) states.push(last);
      continue;
    }
    if (flagTransitions >= MAX_FLAG_TRANSITIONS) {
      truncated = true;
      if (last) states.push(last);
      continue;
    }
    flagTransitions++;
    const state: AlertState = {
      id: flagAlertId(flag),
      kind: "flag-stale",
      flag,
      firing,
      since: now,
      value: firing ? 1 : 0,
      threshold: 1,
      evaluatedAt: now,
    };
    if (firing) states.push(state);
    transitions.push({
      type: firing ? "alert.fired" : "alert.resolved",
      alert: state,
      firedAt: firing ? now : last!.since,
    });
  }
  return { states, transitions, truncated };
}

/**
 * Whether the rate alerts' input is missing now: no usage summary received for
 * `noDataAfterSeconds`, or none of the window's minutes holds a request.
 */
export function dataMissing(
  facts: Pick<AlertFacts, "now" | "lastDataAt">,
  settings: Pick<AlertSettings, "noDataAfterSeconds">,
  windowRequests: number,
): boolean {
  if (windowRequests === 0 || facts.lastDataAt === null) return true;
  return facts.now - facts.lastDataAt > settings.noDataAfterSeconds * 1000;
}

/**
 * Whether a rate alert's previous state makes absence news: it was firing, already without data,
 * or judged (its window held at least the traffic floor). An environment too quiet to be judged
 * going silent is not.
 */
function expectsData(last: AlertState): boolean {
  return last.firing || last.noDataSince !== undefined || last.value !== null;
}

/** Whether any alert is enabled (with none, the object never evaluates). */
export function anyAlertEnabled(settings: AlertSettings): boolean {
  return ALERT_KINDS.some((kind) => settings.alerts[kind].enabled);
}

/**
 * Whether a rate alert or the lag alert is firing with data (the object keeps its evaluation
 * cadence while one is). One in `no-data` does not keep it: only a usage summary can change it,
 * and each one asks for an evaluation.
 */
export function environmentAlertFiring(states: readonly AlertState[]): boolean {
  return states.some((s) => s.firing && s.kind !== "flag-stale" && s.noDataSince === undefined);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The webhook body of a transition: `{type, timestamp, data:{environment, id, kind, flag?, value,
 * threshold, unit, windowSeconds?, requests?, …}}`.
 * - `alert.fired` / `alert.resolved`: `since` (when the alert fired, also in the resolution),
 *   `resolvedAt?`; `timestamp` is when this transition happened.
 * - `alert.no_data` / `alert.data_resumed`: `firing` (the state kept through the gap), `since?`
 *   (when it fired, if firing), `noDataSince`, `lastDataAt` (the last usage summary received,
 *   null if none), `resumedAt?`; `timestamp` is `noDataSince` or `resumedAt`.
 */
export function alertEvent(environment: string, t: AlertTransition, settings: AlertSettings): WebhookEvent {
  const a = t.alert;
  const rate = a.kind === "error-rate" || a.kind === "stale-answers";
  const common = {
    environment,
    id: a.id,
    kind: a.kind,
    ...(a.flag === undefined ? {} : { flag: a.flag }),
    value: a.value,
    threshold: a.threshold,
    unit: ALERT_UNITS[a.kind],
    ...(rate ? { windowSeconds: settings.windowMinutes * 60, requests: a.requests ?? 0 } : {}),
  };
  if (t.noData) {
    const resumed = t.type === "alert.data_resumed";
    return {
      type: t.type,
      timestamp: iso(resumed ? a.evaluatedAt : t.noData.since),
      data: {
        ...common,
        firing: a.firing,
        ...(a.firing ? { since: iso(a.since) } : {}),
        noDataSince: iso(t.noData.since),
        lastDataAt: t.noData.lastDataAt === null ? null : iso(t.noData.lastDataAt),
        ...(resumed ? { resumedAt: iso(a.evaluatedAt) } : {}),
      },
    };
  }
  return {
    type: t.type,
    timestamp: iso(a.since),
    data: { ...common, since: iso(t.firedAt), ...(t.type === "alert.resolved" ? { resolvedAt: iso(a.since) } : {}) },
  };
}
