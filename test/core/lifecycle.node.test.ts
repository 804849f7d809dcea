import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIFECYCLE,
  flagStatus,
  LifecyclePatch,
  applyLifecyclePatch,
  type FlagFacts,
} from "../../src/core/lifecycle";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 3);
const facts = (f: Partial<FlagFacts>): FlagFacts => ({
  kind: "release",
  createdAt: NOW - 100 * DAY,
  changedAt: NOW - 100 * DAY,
  lastEvaluatedAt: null,
  variantsInWindow: 0,
  ...f,
});

describe("flag status and staleness (7-day windows, Unleash lifetimes)", () => {
  it.each([
    ["new: 3 days old, never evaluated", facts({ createdAt: NOW - 3 * DAY, changedAt: NOW - 3 * DAY }), "new", false],
    [
      "inactive: never evaluated, older than the window",
      facts({ createdAt: NOW - 8 * DAY, changedAt: NOW - 8 * DAY }),
      "inactive",
      false,
    ],
    [
      "inactive + stale: last evaluation 8 days ago, 100 days old",
      facts({ lastEvaluatedAt: NOW - 8 * DAY }),
      "inactive",
      true,
    ],
    ["active: two variants this week", facts({ lastEvaluatedAt: NOW - DAY, variantsInWindow: 2 }), "active", false],
    [
      "active: one variant but changed 2 days ago",
      facts({ lastEvaluatedAt: NOW - DAY, variantsInWindow: 1, changedAt: NOW - 2 * DAY }),
      "active",
      false,
    ],
    [
      "launched + stale: one variant all week, unchanged, past 40 days",
      facts({ lastEvaluatedAt: NOW - DAY, variantsInWindow: 1 }),
      "launched",
      true,
    ],
    [
      "launched, not yet stale: 20 days old",
      facts({ createdAt: NOW - 20 * DAY, changedAt: NOW - 20 * DAY, lastEvaluatedAt: NOW, variantsInWindow: 1 }),
      "launched",
      false,
    ],
    [
      "kill-switch never goes stale",
      facts({ kind: "kill-switch", lastEvaluatedAt: NOW - 30 * DAY }),
      "inactive",
      false,
    ],
    [
      "operational is stale after 7 days",
      facts({ kind: "operational", createdAt: NOW - 8 * DAY, changedAt: NOW - 8 * DAY }),
      "inactive",
      true,
    ],
    [
      "evaluated once and new: no longer new",
      facts({ createdAt: NOW - DAY, changedAt: NOW - DAY, lastEvaluatedAt: NOW - 60_000, variantsInWindow: 1 }),
      "active",
      false,
    ],
  ])("%s", (_label, f, status, stale) => {
    expect(flagStatus(f, NOW)).toEqual({ status, stale });
  });

  it("a shortened clock: 2-second windows and a 5-second lifetime", () => {
    const settings = applyLifecyclePatch(
      DEFAULT_LIFECYCLE,
      LifecyclePatch.parse({ statusWindowDays: 2 / 86_400, lifetimeDays: { release: 5 / 86_400 } }),
    );
    const created = { createdAt: NOW, changedAt: NOW };
    expect(flagStatus(facts(created), NOW + 1_000, settings)).toEqual({ status: "new", stale: false });
    expect(flagStatus(facts(created), NOW + 3_000, settings)).toEqual({ status: "inactive", stale: false });
    expect(flagStatus(facts(created), NOW + 6_000, settings)).toEqual({ status: "inactive", stale: true });
    expect(
      flagStatus(facts({ ...created, lastEvaluatedAt: NOW + 5_500, variantsInWindow: 1 }), NOW + 6_000, settings),
    ).toEqual({ status: "launched", stale: true });
  });

  it("settings patches are validated: unknown kinds, zero or negative days are refused; null means permanent", () => {
    expect(LifecyclePatch.safeParse({ lifetimeDays: { bogus: 3 } }).success).toBe(false);
    expect(LifecyclePatch.safeParse({ statusWindowDays: 0 }).success).toBe(false);
    expect(LifecyclePatch.safeParse({ lifetimeDays: { release: -1 } }).success).toBe(false);
    expect(LifecyclePatch.safeParse({ extra: 1 }).success).toBe(false); // a typo is refused, not ignored
    const merged = applyLifecyclePatch(DEFAULT_LIFECYCLE, LifecyclePatch.parse({ lifetimeDays: { release: null } }));
    expect(merged.lifetimeDays).toEqual({ ...DEFAULT_LIFECYCLE.lifetimeDays, release: null });
    expect(flagStatus(facts({ lastEvaluatedAt: NOW - 30 * DAY }), NOW, merged)).toEqual({
      status: "inactive",
      stale: false,
    });
  });
});
