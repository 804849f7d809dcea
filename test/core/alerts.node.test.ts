import { describe, expect, it } from "vitest";
import {
  alertCondition,
  alertEvent,
  alertSettings,
  AlertSettingsPatch,
  DEFAULT_ALERT_SETTINGS,
  environmentAlertFiring,
  evaluateAlerts,
  MAX_FLAG_TRANSITIONS,
  type AlertFacts,
  type AlertSettings,
  type AlertState,
} from "../../src/core/alerts";
import { DEFAULT_LIFECYCLE, flagStatus, staleAt, type FlagFacts } from "../../src/core/lifecycle";

const T0 = Date.UTC(2026, 11, 3, 12, 0);
const MIN = 60_000;

/** A 5-minute window whose first minute holds the traffic (the rest empty). */
const window = (requests: number, errors = 0, stale = 0) => [
  { requests, status: { "5xx": errors }, stale },
  ...Array.from({ length: 4 }, () => ({ requests: 0, status: { "5xx": 0 }, stale: 0 })),
];
/** Facts at `now`; unless told otherwise a usage summary has just arrived (data is flowing). */
const facts = (f: Partial<AlertFacts> = {}): AlertFacts => ({
  now: T0,
  minutes: window(0),
  publishLagSeconds: 0,
  staleFlags: [],
  lastDataAt: f.now ?? T0,
  ...f,
});

/** Runs the evaluator over a sequence of facts, carrying the states, and answers each step's transitions. */
function run(
  steps: Partial<AlertFacts>[],
  settings: AlertSettings = DEFAULT_ALERT_SETTINGS,
): { transitions: string[][]; states: AlertState[] } {
  let states: AlertState[] = [];
  const transitions: string[][] = [];
  steps.forEach((step, i) => {
    const r = evaluateAlerts(facts({ now: T0 + i * MIN, ...step }), settings, states);
    states = r.states;
    transitions.push(r.transitions.map((t) => `${t.type} ${t.alert.id}`));
  });
  return { transitions, states };
}

describe("environment alerts: fire once, stay quiet while firing, resolve once", () => {
  it.each([
    ["5xx rate over 1%", "error-rate", (bad: boolean) => ({ minutes: window(1000, bad ? 20 : 0) })],
    ["stale answers over 0.5%", "stale-answers", (bad: boolean) => ({ minutes: window(1000, 0, bad ? 10 : 0) })],
    ["publish lag over 60 s", "publish-lag", (bad: boolean) => ({ publishLagSeconds: bad ? 90 : 0 })],
  ] as const)("%s", (_label, id, step) => {
    const { transitions } = run([
      step(false),
      step(true),
      step(true),
      step(true),
      step(false),
      step(false),
      step(true),
    ]);
    expect(transitions).toEqual([
      [],
      [`alert.fired ${id}`],
      [],
      [],
      [`alert.resolved ${id}`],
      [],
      [`alert.fired ${id}`],
    ]);
  });

  it("the traffic floor: 1 error in 3 requests pages nobody; 100 requests with 2 errors does", () => {
    expect(run([{ minutes: window(3, 1) }]).transitions).toEqual([[]]);
    expect(run([{ minutes: window(99, 50) }]).transitions).toEqual([[]]);
    expect(run([{ minutes: window(100, 2) }]).transitions).toEqual([["alert.fired error-rate"]]);
    // Exactly at the threshold is not over it.
    expect(run([{ minutes: window(100, 1) }]).transitions).toEqual([[]]);
    const quiet = run([{ minutes: window(3, 1) }]).states.find((s) => s.id === "error-rate")!;
    expect(quiet).toMatchObject({ firing: false, value: null, requests: 3 });
  });

  it("hysteresis: a firing rate between 0.8× and 1× the threshold keeps firing, below 0.8× resolves", () => {
    const { transitions } = run([
      { minutes: window(1000, 11) },
      { minutes: window(1000, 9) },
      { minutes: window(1000, 8) },
    ]);
    expect(transitions).toEqual([["alert.fired error-rate"], [], ["alert.resolved error-rate"]]);
  });

  it("a firing rate alert resolves when its traffic, still arriving, falls under the floor", () => {
    const { transitions, states } = run([{ minutes: window(1000, 50) }, { minutes: window(40, 20) }]);
    expect(transitions).toEqual([["alert.fired error-rate"], ["alert.resolved error-rate"]]);
    expect(states.every((s) => !s.firing)).toBe(true);
  });

  it("the window sums every minute it holds", () => {
    const spread = Array.from({ length: 5 }, () => ({ requests: 40, status: { "5xx": 1 }, stale: 0 }));
    expect(run([{ minutes: spread }]).states.find((s) => s.id === "error-rate")).toMatchObject({
      firing: true,
      value: 2.5,
      requests: 200,
    });
  });

  it("a disabled alert never fires, and disabling a firing one resolves it once", () => {
    const off = alertSettings(undefined, { alerts: { "error-rate": { enabled: false } } });
    expect(run([{ minutes: window(1000, 500) }], off).transitions).toEqual([[]]);
    const first = evaluateAlerts(facts({ minutes: window(1000, 500) }), DEFAULT_ALERT_SETTINGS, []);
    const second = evaluateAlerts(facts({ now: T0 + MIN, minutes: window(1000, 500) }), off, first.states);
    expect(second.transitions.map((t) => t.type)).toEqual(["alert.resolved"]);
  });

  it("a resolution says when the alert fired; `since` moves only on transitions", () => {
    const { states: s1 } = run([{ publishLagSeconds: 90 }]);
    const r2 = evaluateAlerts(facts({ now: T0 + MIN, publishLagSeconds: 120 }), DEFAULT_ALERT_SETTINGS, s1);
    expect(r2.states.find((s) => s.id === "publish-lag")).toMatchObject({
      since: T0,
      value: 120,
      evaluatedAt: T0 + MIN,
    });
    const r3 = evaluateAlerts(facts({ now: T0 + 2 * MIN }), DEFAULT_ALERT_SETTINGS, r2.states);
    expect(r3.transitions).toHaveLength(1);
    expect(r3.transitions[0]).toMatchObject({
      type: "alert.resolved",
      firedAt: T0,
      alert: { since: T0 + 2 * MIN, firing: false },
    });
  });
});

describe("flag-stale: one alert per flag key", () => {
  it("fires per flag as it turns stale, once, and resolves when it is no longer stale or is deleted", () => {
    const { transitions, states } = run([
      { staleFlags: [] },
      { staleFlags: ["b", "a"] },
      { staleFlags: ["a", "b"] },
      { staleFlags: ["a", "c"] },
      { staleFlags: [] },
    ]);
    expect(transitions).toEqual([
      [],
      ["alert.fired flag-stale:a", "alert.fired flag-stale:b"],
      [],
      ["alert.resolved flag-stale:b", "alert.fired flag-stale:c"],
      ["alert.resolved flag-stale:a", "alert.resolved flag-stale:c"],
    ]);
    // Resolved flag alerts are not kept: a deleted key leaves no row behind.
    expect(states.filter((s) => s.kind === "flag-stale")).toEqual([]);
  });

  it("announces at most MAX_FLAG_TRANSITIONS a run, the rest at the next", () => {
    const many = Array.from({ length: MAX_FLAG_TRANSITIONS + 5 }, (_, i) => `f${String(i).padStart(4, "0")}`);
    const first = evaluateAlerts(facts({ staleFlags: many }), DEFAULT_ALERT_SETTINGS, []);
    expect(first.transitions).toHaveLength(MAX_FLAG_TRANSITIONS);
    expect(first.truncated).toBe(true);
    const second = evaluateAlerts(facts({ now: T0 + MIN, staleFlags: many }), DEFAULT_ALERT_SETTINGS, first.states);
    expect(second.transitions.map((t) => t.alert.flag)).toEqual(many.slice(MAX_FLAG_TRANSITIONS));
    expect(second.truncated).toBe(false);
    const third = evaluateAlerts(facts({ now: T0 + 2 * MIN, staleFlags: many }), DEFAULT_ALERT_SETTINGS, second.states);
    expect(third.transitions).toEqual([]);
  });

  it("an unchanged firing flag alert is carried over as it was (no row to rewrite)", () => {
    const first = evaluateAlerts(facts({ staleFlags: ["a"] }), DEFAULT_ALERT_SETTINGS, []);
    const second = evaluateAlerts(facts({ now: T0 + MIN, staleFlags: ["a"] }), DEFAULT_ALERT_SETTINGS, first.states);
    expect(second.states.find((s) => s.id === "flag-stale:a")).toBe(first.states.find((s) => s.id === "flag-stale:a"));
  });
});

describe("no data: absence is its own state, never a recovery", () => {
  const firing = { minutes: window(1000, 50) };
  /** No summary since `at` and nothing in the window. */
  const silentSince = (at: number) => ({ minutes: window(0), lastDataAt: at });
  const errorRate = (states: AlertState[]) => states.find((s) => s.id === "error-rate")!;

  it("a firing error-rate whose data stops enters no-data once, keeps firing, and does not resolve", () => {
    const { transitions, states } = run([firing, silentSince(T0), silentSince(T0), silentSince(T0)]);
    expect(transitions).toEqual([
      ["alert.fired error-rate"],
      // stale-answers was judged (0 % of 1000 requests) and silent too: it is told apart from "0 %".
      ["alert.no_data error-rate", "alert.no_data stale-answers"],
      [],
      [],
    ]);
    expect(errorRate(states)).toMatchObject({
      firing: true,
      since: T0,
      noDataSince: T0 + MIN,
      value: null,
      requests: 0,
      evaluatedAt: T0 + 3 * MIN,
    });
    expect(alertCondition(errorRate(states))).toBe("no-data");
    // No cadence is kept for it: the next usage summary asks for an evaluation.
    expect(environmentAlertFiring(states)).toBe(false);
  });

  it("data returning still over the resolve level: data_resumed, still firing since it fired, no second alert.fired", () => {
    const { transitions, states } = run([firing, silentSince(T0), silentSince(T0), { minutes: window(1000, 9) }]);
    expect(transitions[3]).toEqual(["alert.data_resumed error-rate", "alert.data_resumed stale-answers"]);
    expect(errorRate(states)).toEqual({
      id: "error-rate",
      kind: "error-rate",
      firing: true,
      since: T0,
      value: 0.9,
      threshold: 1,
      requests: 1000,
      evaluatedAt: T0 + 3 * MIN,
    });
    expect(alertCondition(errorRate(states))).toBe("firing");
  });

  it("data returning under the resolve level resolves then, after saying the data is back", () => {
    const { transitions, states } = run([firing, silentSince(T0), { minutes: window(1000, 1) }]);
    expect(transitions[2]).toEqual([
      "alert.data_resumed error-rate",
      "alert.resolved error-rate",
      "alert.data_resumed stale-answers",
    ]);
    expect(errorRate(states)).toMatchObject({ firing: false, since: T0 + 2 * MIN, value: 0.1 });
    expect(errorRate(states).noDataSince).toBeUndefined();
  });

  it("summaries stopping count even while the window still holds older traffic", () => {
    // The window still holds the first minute's 1000 requests, but nothing arrived for 3 minutes (> 120 s).
    const { transitions, states } = run([
      firing,
      { ...firing, lastDataAt: T0 },
      { ...firing, lastDataAt: T0 },
      { ...firing, lastDataAt: T0 },
    ]);
    // 120 s without a summary is still within the bound; 180 s is past it.
    expect(transitions.map((t) => t.filter((x) => x.endsWith("error-rate")))).toEqual([
      ["alert.fired error-rate"],
      [],
      [],
      ["alert.no_data error-rate"],
    ]);
    expect(errorRate(states)).toMatchObject({ firing: true, noDataSince: T0 + 3 * MIN, value: 5, requests: 1000 });
    // A shorter bound notices it sooner.
    const quick = alertSettings(undefined, { noDataAfterSeconds: 30 });
    expect(run([firing, { ...firing, lastDataAt: T0 }], quick).transitions[1]).toContain("alert.no_data error-rate");
  });

  it("a judged, quiet alert going silent enters no-data too, and fires on the real figures when data returns", () => {
    const { transitions, states } = run([{ minutes: window(1000) }, silentSince(T0), { minutes: window(1000, 50) }]);
    expect(transitions).toEqual([
      [],
      ["alert.no_data error-rate", "alert.no_data stale-answers"],
      ["alert.data_resumed error-rate", "alert.fired error-rate", "alert.data_resumed stale-answers"],
    ]);
    expect(errorRate(states)).toMatchObject({ firing: true, since: T0 + 2 * MIN });
  });

  it("an environment too quiet to be judged, or never seen, going silent is not news", () => {
    expect(run([{ minutes: window(3, 1) }, silentSince(T0), silentSince(T0)]).transitions).toEqual([[], [], []]);
    const never = run([{ minutes: window(0), lastDataAt: null }]);
    expect(never.transitions).toEqual([[]]);
    expect(never.states.every((s) => alertCondition(s) === "ok")).toBe(true);
  });

  it("disabling an alert in no-data clears it (a firing one resolves once, no data_resumed)", () => {
    const first = run([firing, silentSince(T0)]).states;
    const off = alertSettings(undefined, { alerts: { "error-rate": { enabled: false } } });
    const r = evaluateAlerts(facts({ now: T0 + 2 * MIN, ...silentSince(T0) }), off, first);
    expect(r.transitions.map((t) => `${t.type} ${t.alert.id}`)).toEqual(["alert.resolved error-rate"]);
    expect(alertCondition(errorRate(r.states))).toBe("ok");
  });

  it("publish-lag does not depend on usage data", () => {
    const { transitions } = run([
      { publishLagSeconds: 90 },
      { publishLagSeconds: 90, lastDataAt: null },
      { lastDataAt: null },
    ]);
    expect(transitions).toEqual([["alert.fired publish-lag"], [], ["alert.resolved publish-lag"]]);
  });

  it("no_data and data_resumed events say what was kept and when the data stopped and came back", () => {
    const steps = run([firing, silentSince(T0 + 10_000)]);
    const noData = evaluateAlerts(
      facts({ now: T0 + 2 * MIN, ...silentSince(T0 + 10_000) }),
      DEFAULT_ALERT_SETTINGS,
      run([firing]).states,
    ).transitions[0]!;
    expect(alertEvent("prod", noData, DEFAULT_ALERT_SETTINGS)).toEqual({
      type: "alert.no_data",
      timestamp: new Date(T0 + 2 * MIN).toISOString(),
      data: {
        environment: "prod",
        id: "error-rate",
        kind: "error-rate",
        value: null,
        threshold: 1,
        unit: "percent",
        windowSeconds: 300,
        requests: 0,
        firing: true,
        since: new Date(T0).toISOString(),
        noDataSince: new Date(T0 + 2 * MIN).toISOString(),
        lastDataAt: new Date(T0 + 10_000).toISOString(),
      },
    });
    const back = evaluateAlerts(
      facts({ now: T0 + 5 * MIN, minutes: window(1000, 50) }),
      DEFAULT_ALERT_SETTINGS,
      steps.states,
    ).transitions[0]!;
    expect(alertEvent("prod", back, DEFAULT_ALERT_SETTINGS)).toEqual({
      type: "alert.data_resumed",
      timestamp: new Date(T0 + 5 * MIN).toISOString(),
      data: {
        environment: "prod",
        id: "error-rate",
        kind: "error-rate",
        value: 5,
        threshold: 1,
        unit: "percent",
        windowSeconds: 300,
        requests: 1000,
        firing: true,
        since: new Date(T0).toISOString(),
        noDataSince: new Date(T0 + MIN).toISOString(),
        lastDataAt: new Date(T0 + 5 * MIN).toISOString(),
        resumedAt: new Date(T0 + 5 * MIN).toISOString(),
      },
    });
  });
});

describe("alert settings", () => {
  it("merges a partial patch over stored settings over the defaults", () => {
    const stored = alertSettings(undefined, { windowMinutes: 2, alerts: { "error-rate": { threshold: 5 } } });
    const merged = alertSettings(stored, { alerts: { "error-rate": { enabled: false } } });
    expect(merged).toEqual({
      ...DEFAULT_ALERT_SETTINGS,
      windowMinutes: 2,
      alerts: { ...DEFAULT_ALERT_SETTINGS.alerts, "error-rate": { enabled: false, threshold: 5 } },
    });
  });

  it.each([
    ["an unknown field", { window: 5 }],
    ["a fractional window", { windowMinutes: 1.5 }],
    ["a window over an hour", { windowMinutes: 61 }],
    ["a percentage over 100", { alerts: { "error-rate": { threshold: 101 } } }],
    ["a negative floor", { minRequests: -1 }],
    ["a resolve ratio over 1", { resolveRatio: 1.5 }],
    ["an unknown alert", { alerts: { cpu: { enabled: true } } }],
    ["a threshold on flag-stale", { alerts: { "flag-stale": { threshold: 2 } } }],
    ["a cadence of 0", { evaluateEverySeconds: 0 }],
    ["a no-data bound under 10 s", { noDataAfterSeconds: 5 }],
    ["a no-data bound over an hour", { noDataAfterSeconds: 3601 }],
    ["a fractional no-data bound", { noDataAfterSeconds: 30.5 }],
  ])("refuses %s", (_label, patch) => {
    expect(AlertSettingsPatch.safeParse(patch).success).toBe(false);
  });
});

describe("alert events", () => {
  it("carry id, kind, flag, value, threshold, unit, window and since", () => {
    const fired = evaluateAlerts(facts({ minutes: window(1000, 30) }), DEFAULT_ALERT_SETTINGS, []).transitions[0]!;
    expect(alertEvent("prod", fired, DEFAULT_ALERT_SETTINGS)).toEqual({
      type: "alert.fired",
      timestamp: new Date(T0).toISOString(),
      data: {
        environment: "prod",
        id: "error-rate",
        kind: "error-rate",
        value: 3,
        threshold: 1,
        unit: "percent",
        windowSeconds: 300,
        requests: 1000,
        since: new Date(T0).toISOString(),
      },
    });
    const gone = evaluateAlerts(
      facts({ now: T0 + MIN, staleFlags: [] }),
      DEFAULT_ALERT_SETTINGS,
      evaluateAlerts(facts({ staleFlags: ["old"] }), DEFAULT_ALERT_SETTINGS, []).states,
    ).transitions[0]!;
    expect(alertEvent("prod", gone, DEFAULT_ALERT_SETTINGS)).toEqual({
      type: "alert.resolved",
      timestamp: new Date(T0 + MIN).toISOString(),
      data: {
        environment: "prod",
        id: "flag-stale:old",
        kind: "flag-stale",
        flag: "old",
        value: 0,
        threshold: 1,
        unit: "boolean",
        since: new Date(T0).toISOString(),
        resolvedAt: new Date(T0 + MIN).toISOString(),
      },
    });
  });
});

describe("staleAt: when an untouched flag turns stale", () => {
  const DAY = 86_400_000;
  const f = (x: Partial<FlagFacts>): FlagFacts => ({
    kind: "release",
    createdAt: T0,
    changedAt: T0,
    lastEvaluatedAt: null,
    variantsInWindow: 0,
    ...x,
  });
  it.each([
    ["never evaluated: past its lifetime (40 d > 7 d window)", f({}), T0 + 40 * DAY + 1],
    [
      "evaluated late in life: the window after its last evaluation",
      f({ createdAt: T0 - 39 * DAY, lastEvaluatedAt: T0 }),
      T0 + 7 * DAY + 1,
    ],
    [
      "launched: at the end of its lifetime",
      f({ createdAt: T0 - 39 * DAY, changedAt: T0 - 39 * DAY, lastEvaluatedAt: T0, variantsInWindow: 1 }),
      T0 + DAY + 1,
    ],
    ["a permanent kind: never", f({ kind: "kill-switch" }), undefined],
    [
      "stale already: no future transition",
      f({ createdAt: T0 - 100 * DAY, lastEvaluatedAt: T0 - 50 * DAY }),
      undefined,
    ],
  ])("%s", (_label, facts, expected) => {
    const at = staleAt(facts, T0);
    expect(at).toBe(expected);
    if (at !== undefined) {
      expect(flagStatus(facts, at - 1, DEFAULT_LIFECYCLE).stale).toBe(false);
      expect(flagStatus(facts, at, DEFAULT_LIFECYCLE).stale).toBe(true);
    }
  });
});
