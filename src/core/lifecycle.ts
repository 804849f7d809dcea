/**
 * Flag lifecycle: kinds with expected lifetimes, and the computed status an operator filters by
 * to find flags that can be deleted. Pure: the caller passes the facts and the clock.
 *
 * Status (windows default to 7 days, as LaunchDarkly's):
 * - `new`: created within the window and never evaluated;
 * - `inactive`: not new, and no evaluation within the window;
 * - `launched`: evaluated within the window, every evaluation in it served one variant, and the
 *   flag itself unchanged for the whole window;
 * - `active`: anything else.
 * `stale`: the flag is older than its kind's expected lifetime (Unleash's defaults: release and
 * experiment 40 days, operational 7, kill-switch and permission never) and `inactive` or
 * `launched`: it has done its job and can probably go.
 * @module
 */
import * as z from "zod/mini";
import type { LifecycleSettings } from "./wire/dto/insights";

export const FLAG_KINDS = ["release", "experiment", "operational", "kill-switch", "permission"] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];
export const DEFAULT_FLAG_KIND: FlagKind = "release";

export const FLAG_STATUSES = ["new", "active", "inactive", "launched"] as const;
export type FlagStatus = (typeof FLAG_STATUSES)[number];

const DAY_MS = 86_400_000;

/** Expected lifetime per kind in days; null: permanent (never stale). */
export type Lifetimes = LifecycleSettings["lifetimeDays"];
export const DEFAULT_LIFETIME_DAYS: Lifetimes = {
  release: 40,
  experiment: 40,
  operational: 7,
  "kill-switch": null,
  permission: null,
};
export const DEFAULT_STATUS_WINDOW_DAYS = 7;

/** Per-environment settings: declared with the other insights answers (wire/dto/insights.ts). */
export type { LifecycleSettings } from "./wire/dto/insights";

export const DEFAULT_LIFECYCLE: LifecycleSettings = {
  lifetimeDays: DEFAULT_LIFETIME_DAYS,
  statusWindowDays: DEFAULT_STATUS_WINDOW_DAYS,
};

/** What status needs to know about one flag. Times in ms since epoch. */
export interface FlagFacts {
  kind: FlagKind;
  createdAt: number;
  /** Last change of the flag's definition. */
  changedAt: number;
  lastEvaluatedAt: number | null;
  /** Distinct variants served within the window. */
  variantsInWindow: number;
}

export function flagStatus(
  facts: FlagFacts,
  now: number,
  settings: LifecycleSettings = DEFAULT_LIFECYCLE,
): { status: FlagStatus; stale: boolean } {
  const windowMs = settings.statusWindowDays * DAY_MS;
  const since = now - windowMs;
  const evaluatedInWindow = facts.lastEvaluatedAt !== null && facts.lastEvaluatedAt >= since;
  let status: FlagStatus;
  if (facts.lastEvaluatedAt === null && facts.createdAt >= since) status = "new";
  else if (!evaluatedInWindow) status = "inactive";
  else if (facts.variantsInWindow === 1 && facts.changedAt < since) status = "launched";
  else status = "active";
  const lifetimeDays = settings.lifetimeDays[facts.kind];
  const pastLifetime = lifetimeDays !== null && now - facts.createdAt > lifetimeDays * DAY_MS;
  return { status, stale: pastLifetime && (status === "inactive" || status === "launched") };
}

/**
 * When a flag that is not stale now would turn stale if it were neither evaluated nor changed
 * meanwhile (ms since epoch, after `now`); undefined when it never would (a permanent kind) or is
 * stale already. Lets an idle environment sleep until its next flag can turn stale. A flag that
 * is `active` now may turn `launched` earlier, as older variants leave the window; this answers
 * when it turns `inactive` at the latest.
 */
export function staleAt(
  facts: FlagFacts,
  now: number,
  settings: LifecycleSettings = DEFAULT_LIFECYCLE,
): number | undefined {
  const lifetimeDays = settings.lifetimeDays[facts.kind];
  if (lifetimeDays === null) return undefined;
  const { status, stale } = flagStatus(facts, now, settings);
  if (stale) return undefined;
  // Both bounds are strict (`>` lifetime, `<` window start): one ms past them.
  const pastLifetime = facts.createdAt + lifetimeDays * DAY_MS + 1;
  const inactive = (facts.lastEvaluatedAt ?? facts.createdAt) + settings.statusWindowDays * DAY_MS + 1;
  const at = status === "launched" ? pastLifetime : Math.max(pastLifetime, inactive);
  return Math.max(at, now + 1);
}

const days = z.number().check(z.gt(0), z.lte(36_500));
/** A partial update of {@link LifecycleSettings}: `null` makes a kind permanent. Unknown fields are refused. */
export const LifecyclePatch = z.strictObject({
  lifetimeDays: z.optional(
    z.strictObject(
      Object.fromEntries(FLAG_KINDS.map((k) => [k, z.optional(z.nullable(days))])) as Record<
        FlagKind,
        z.ZodMiniOptional<z.ZodMiniNullable<typeof days>>
      >,
    ),
  ),
  statusWindowDays: z.optional(days),
});
export type LifecyclePatch = z.infer<typeof LifecyclePatch>;

export function applyLifecyclePatch(current: LifecycleSettings, patch: LifecyclePatch): LifecycleSettings {
  return {
    lifetimeDays: { ...current.lifetimeDays, ...patch.lifetimeDays },
    statusWindowDays: patch.statusWindowDays ?? current.statusWindowDays,
  };
}

/** Stored settings (possibly from an older shape) over the defaults. */
export function lifecycleSettings(stored: Partial<LifecycleSettings> | undefined): LifecycleSettings {
  return {
    lifetimeDays: { ...DEFAULT_LIFETIME_DAYS, ...stored?.lifetimeDays },
    statusWindowDays: stored?.statusWindowDays ?? DEFAULT_STATUS_WINDOW_DAYS,
  };
}
