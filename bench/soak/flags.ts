/**
 * The soak's own flag set, and the usage rule mirrored from the server, so the expected usage of
 * every flag is known exactly: seeded into a dedicated environment that nothing else evaluates.
 * @module
 */
import type { DevServer } from "../../test/support/wrangler-dev";

/** The flag the admin writer rewrites every second: its one variant's value is the write number. */
export const ADMIN_FLAG = "soak-admin";

/** Native flags (README, "The native flag model"); three visible to client keys, one disabled. */
export const SOAK_FLAGS = [
  {
    key: "soak-on", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off",
    enabled: true, clientVisible: true, fallthrough: { variant: "on" },
  },
  {
    key: "soak-split", type: "string", variants: { red: "red", green: "green", blue: "blue" }, defaultVariant: "red",
    enabled: true, clientVisible: true,
    fallthrough: { rollout: { variants: [{ variant: "red", weight: 34 }, { variant: "green", weight: 33 }, { variant: "blue", weight: 33 }] } },
  },
  {
    key: "soak-plan", type: "string", variants: { pro: "pro", basic: "basic" }, defaultVariant: "basic",
    enabled: true, clientVisible: false,
    rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "pro" } }],
    fallthrough: { variant: "basic" },
  },
  {
    key: "soak-limit", type: "number", variants: { low: 10, high: 1000 }, defaultVariant: "low",
    enabled: true, clientVisible: false, fallthrough: { variant: "high" },
  },
  // Answered as {key, reason: "DISABLED"} without a value: it must count nothing.
  {
    key: "soak-off", type: "boolean", variants: { on: true, off: false }, defaultVariant: "off",
    enabled: false, clientVisible: true, fallthrough: { variant: "on" },
  },
] as const;

export function adminFlag(write: number) {
  return { key: ADMIN_FLAG, type: "number", variants: { w: write }, defaultVariant: "w", enabled: true, clientVisible: true, fallthrough: { variant: "w" } };
}

export const FLAG_KEYS: readonly string[] = [...SOAK_FLAGS.map((f) => f.key), ADMIN_FLAG];

/** Creates `env` with the soak flags and returns a server and a client key for it. */
export async function seedSoakEnv(server: DevServer, env: string): Promise<{ server: string; client: string }> {
  const serverKey = await server.mintKey(env, "server");
  const clientKey = await server.mintKey(env, "client");
  for (const flag of [...SOAK_FLAGS, adminFlag(0)]) {
    const res = await server.admin("PUT", `/environments/${env}/flags/${flag.key}`, flag);
    if (res.status !== 201) throw new Error(`seed ${flag.key}: ${res.status} ${res.text}`);
  }
  return { server: serverKey, client: clientKey };
}

/** One OFREP answer item (single answer or bulk `flags[i]`). */
export interface AnswerItem {
  key?: unknown;
  value?: unknown;
  variant?: unknown;
  reason?: unknown;
  errorCode?: unknown;
}

/**
 * Whether an item of a 200 answer counts in `…/usage` (API.md: "every flag answered with a value";
 * src/edge/insights/aggregator.ts: a value, and neither DISABLED, ERROR nor an error code).
 */
export function countsAsEvaluation(item: AnswerItem): boolean {
  return item.value !== undefined && item.reason !== "DISABLED" && item.reason !== "ERROR" && item.errorCode === undefined;
}

/** Evaluations the answers carried, per flag and variant: what `…/usage` must report. */
export class UsageTally {
  readonly flags = new Map<string, { total: number; variants: Record<string, number> }>();

  constructor(keys: readonly string[]) {
    for (const key of keys) this.flags.set(key, { total: 0, variants: {} });
  }

  /** Counts the items of one 200 answer. */
  add(items: readonly AnswerItem[]): void {
    for (const item of items) {
      if (typeof item.key !== "string" || !countsAsEvaluation(item)) continue;
      let entry = this.flags.get(item.key);
      if (!entry) this.flags.set(item.key, (entry = { total: 0, variants: {} }));
      entry.total++;
      const variant = String(item.variant);
      entry.variants[variant] = (entry.variants[variant] ?? 0) + 1;
    }
  }
}
