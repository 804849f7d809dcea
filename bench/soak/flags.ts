/**
 * The soak's own flag set, and the usage rule mirrored from the server, so the expected usage of
 * every flag is known exactly: seeded into a dedicated environment that nothing else evaluates.
 * @module
 */
import type { DevServer } from "../../test/support/wrangler-dev";

/**
 * The flag the admin writer rewrites every second: write N gives it the value N under variant
 * `w<N mod 3>`, and every fifth write disables it, so versions differ in which variant the bulk
 * answers carry and in whether they carry the flag's value at all (what a remembered answer
 * shape must not get wrong).
 */
export const ADMIN_FLAG = "soak-admin";

/** Native flags (docs/api.md, "The native flag model"); three visible to client keys, one disabled. */
export const SOAK_FLAGS = [
  {
    key: "soak-on",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    enabled: true,
    clientVisible: true,
    fallthrough: { variant: "on" },
  },
  {
    key: "soak-split",
    type: "string",
    variants: { red: "red", green: "green", blue: "blue" },
    defaultVariant: "red",
    enabled: true,
    clientVisible: true,
    fallthrough: {
      rollout: {
        variants: [
          { variant: "red", weight: 34 },
          { variant: "green", weight: 33 },
          { variant: "blue", weight: 33 },
        ],
      },
    },
  },
  {
    key: "soak-plan",
    type: "string",
    variants: { pro: "pro", basic: "basic" },
    defaultVariant: "basic",
    enabled: true,
    clientVisible: false,
    rules: [{ when: { attribute: "plan", op: "equals", values: ["pro"] }, serve: { variant: "pro" } }],
    fallthrough: { variant: "basic" },
  },
  {
    key: "soak-limit",
    type: "number",
    variants: { low: 10, high: 1000 },
    defaultVariant: "low",
    enabled: true,
    clientVisible: false,
    fallthrough: { variant: "high" },
  },
  // Answered as {key, reason: "DISABLED"} without a value: it must count nothing.
  {
    key: "soak-off",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    enabled: false,
    clientVisible: true,
    fallthrough: { variant: "on" },
  },
] as const;

export function adminFlag(write: number) {
  const variant = `w${write % 3}`;
  return {
    key: ADMIN_FLAG,
    type: "number",
    variants: { [variant]: write },
    defaultVariant: variant,
    enabled: write % 5 !== 4,
    clientVisible: true,
    fallthrough: { variant },
  };
}

/** Whether an evaluation of ADMIN_FLAG answered what write N made of it. */
export function reflectsAdminWrite(write: number, item: AnswerItem): boolean {
  return adminFlag(write).enabled ? item.value === write : item.reason === "DISABLED" && item.value === undefined;
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
  return (
    item.value !== undefined && item.reason !== "DISABLED" && item.reason !== "ERROR" && item.errorCode === undefined
  );
}

/**
 * What is wrong with one answered item for `context` and key `kind`, or undefined when it is right
 * or not predictable here (the admin flag changes every second; a split depends on the hash, so it
 * is checked for consistency per targetingKey by the caller).
 */
export function wrongAnswer(
  item: AnswerItem,
  context: { plan?: string },
  kind: "server" | "client",
): string | undefined {
  const hidden = SOAK_FLAGS.some((f) => f.key === item.key && !f.clientVisible);
  if (kind === "client" && hidden) return `${String(item.key)} is hidden from client keys`;
  const expected: Record<string, Partial<AnswerItem>> = {
    "soak-on": { value: true, variant: "on" },
    "soak-plan": { value: context.plan === "pro" ? "pro" : "basic" },
    "soak-limit": { value: 1000 },
    "soak-off": { value: undefined, reason: "DISABLED" },
  };
  const want = expected[String(item.key)];
  if (!want) return undefined;
  for (const [field, value] of Object.entries(want)) {
    if (item[field as keyof AnswerItem] !== value)
      return `${String(item.key)}.${field} ${JSON.stringify(item[field as keyof AnswerItem])}, expected ${JSON.stringify(value)}`;
  }
  return undefined;
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
