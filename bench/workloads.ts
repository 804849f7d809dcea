/**
 * Benchmark workloads, defined once in a small vendor-neutral form (`LogicalFlag`) that each
 * engine adapter (bench/peers/*) translates into its own format. Contexts come from a fixed-seed
 * PRNG so every engine sees the same inputs in every run.
 * @module
 */
import type { JsonValue } from "../src/core/evaluation-types";

/** Conditions every compared engine can express natively. */
export type LogicalCondition =
  | { attr: string; op: "endsWith" | "in" | "equals"; values: string[] }
  | { attr: string; op: "gt"; value: number }
  | { segment: string };

export type LogicalServe = { variant: string } | { rollout: Array<[variant: string, weight: number]> };

export interface LogicalFlag {
  key: string;
  type: "boolean" | "string" | "number" | "object";
  variants: Record<string, JsonValue>;
  defaultVariant: string;
  /** First match wins. Boolean flags only serve "on" from rules, so Unleash's isEnabled can express them. */
  rules: Array<{ when: LogicalCondition; variant: string }>;
  fallthrough: LogicalServe;
}

export interface LogicalSegment {
  key: string;
  /** Targeting keys in the segment. */
  included: string[];
}

export interface Workload {
  name: string;
  flags: LogicalFlag[];
  segments: LogicalSegment[];
}

/** The attributes a generated context carries; adapters map them to each SDK's context shape. */
export interface BenchContext {
  targetingKey: string;
  email: string;
  country: string;
  plan: string;
  age: number;
}

/** mulberry32: tiny, fast and good enough for picking test data deterministically. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** 50 codes listed in workload a's rule and 20 that are never listed. */
export const LISTED_COUNTRIES: readonly string[] = [
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
  "NO",
  "IS",
  "LI",
  "CH",
  "GB",
  "UA",
  "RS",
  "BA",
  "ME",
  "MK",
  "AL",
  "MD",
  "BY",
  "TR",
  "GE",
  "AM",
  "AZ",
  "KZ",
  "CA",
  "MX",
  "AR",
  "CL",
  "CO",
];
const UNLISTED_COUNTRIES: readonly string[] = [
  "US",
  "BR",
  "IN",
  "CN",
  "JP",
  "KR",
  "AU",
  "NZ",
  "ZA",
  "NG",
  "EG",
  "KE",
  "SG",
  "ID",
  "TH",
  "VN",
  "PH",
  "PE",
  "SA",
  "AE",
];
const PLANS = ["free", "pro", "team", "enterprise"] as const;
const DOMAINS = ["example.com", "example.org", "mail.test", "corp.test", "example.com.evil.test"] as const;

/**
 * Contexts for workloads a and b: about 25% example.com emails, about half of the rest in a listed
 * country, so all three branches of workload a's flag are taken often.
 */
export function generateContexts(count: number, seed = 42): BenchContext[] {
  const rand = prng(seed);
  const out: BenchContext[] = [];
  for (let i = 0; i < count; i++) {
    const id = `user-${Math.floor(rand() * 1e9).toString(36)}-${i}`;
    const domain = rand() < 0.25 ? "example.com" : pick(rand, DOMAINS.slice(1));
    const country = rand() < 0.5 ? pick(rand, LISTED_COUNTRIES) : pick(rand, UNLISTED_COUNTRIES);
    out.push({
      targetingKey: id,
      email: `${id}@${domain}`,
      country,
      plan: pick(rand, PLANS),
      age: 16 + Math.floor(rand() * 60),
    });
  }
  return out;
}

/** Workload a: one string flag, email ends-with → A, country in 50 codes → B, else 50/50 B/C by targeting key. */
export function workloadA(): Workload {
  return {
    name: "a",
    segments: [],
    flags: [
      {
        key: "checkout-variant",
        type: "string",
        variants: { A: "variant-a", B: "variant-b", C: "variant-c" },
        defaultVariant: "C",
        rules: [
          { when: { attr: "email", op: "endsWith", values: ["@example.com"] }, variant: "A" },
          { when: { attr: "country", op: "in", values: [...LISTED_COUNTRIES] }, variant: "B" },
        ],
        fallthrough: {
          rollout: [
            ["B", 50],
            ["C", 50],
          ],
        },
      },
    ],
  };
}

const VARIANTS_BY_TYPE: Record<LogicalFlag["type"], Record<string, JsonValue>> = {
  boolean: { on: true, off: false },
  string: { red: "red", green: "green", blue: "blue" },
  number: { low: 1, mid: 5, high: 10 },
  object: { small: { size: 1, label: "small" }, large: { size: 2, label: "large" } },
};

/**
 * Workload b (and the 10k compile test): `count` mixed flags. Shapes, in equal parts: static,
 * one equals rule, one in-list rule, ends-with + in-list rules, a numeric rule, a pure rollout,
 * a rule followed by a rollout.
 */
export function generateMixedFlags(count: number, seed = 7, prefix = "flag"): LogicalFlag[] {
  const rand = prng(seed);
  const flags: LogicalFlag[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const type: LogicalFlag["type"] = r < 0.4 ? "boolean" : r < 0.7 ? "string" : r < 0.9 ? "number" : "object";
    const variants = VARIANTS_BY_TYPE[type];
    const names = Object.keys(variants);
    // Boolean flags: rules serve "on", default "off" (see LogicalFlag.rules).
    const def = type === "boolean" ? "off" : pick(rand, names);
    const other = () => (type === "boolean" ? "on" : pick(rand, names));
    const rollout = (): LogicalServe => {
      const w = 10 + Math.floor(rand() * 80);
      return {
        rollout:
          type === "boolean"
            ? [
                ["on", w],
                ["off", 100 - w],
              ]
            : [
                [names[0]!, w],
                [names[1]!, 100 - w],
              ],
      };
    };
    const countries = () => Array.from({ length: 10 }, () => pick(rand, LISTED_COUNTRIES));
    const shape = i % 7;
    const flag: LogicalFlag = {
      key: `${prefix}-${i}`,
      type,
      variants,
      defaultVariant: def,
      rules: [],
      fallthrough: { variant: def },
    };
    if (shape === 1)
      flag.rules.push({ when: { attr: "plan", op: "equals", values: [pick(rand, PLANS)] }, variant: other() });
    if (shape === 2) flag.rules.push({ when: { attr: "country", op: "in", values: countries() }, variant: other() });
    if (shape === 3) {
      flag.rules.push({
        when: { attr: "email", op: "endsWith", values: [`@${pick(rand, DOMAINS)}`] },
        variant: other(),
      });
      flag.rules.push({ when: { attr: "country", op: "in", values: countries() }, variant: other() });
    }
    if (shape === 4)
      flag.rules.push({ when: { attr: "age", op: "gt", value: 20 + Math.floor(rand() * 40) }, variant: other() });
    if (shape === 5) flag.fallthrough = rollout();
    if (shape === 6) {
      flag.rules.push({ when: { attr: "plan", op: "equals", values: ["enterprise"] }, variant: other() });
      flag.fallthrough = rollout();
    }
    flags.push(flag);
  }
  return flags;
}

export function workloadB(): Workload {
  return { name: "b", segments: [], flags: generateMixedFlags(200) };
}

export const SEGMENT_SIZE = 100_000;
export const segmentUserKey = (i: number) => `seg-user-${i}`;

/** Workload c: a boolean flag on for the 100,000 users of one segment. */
export function workloadC(): Workload {
  return {
    name: "c",
    segments: [{ key: "beta-testers", included: Array.from({ length: SEGMENT_SIZE }, (_, i) => segmentUserKey(i)) }],
    flags: [
      {
        key: "beta-feature",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        rules: [{ when: { segment: "beta-testers" }, variant: "on" }],
        fallthrough: { variant: "off" },
      },
    ],
  };
}

/** Contexts for workload c: even indexes are segment members (spread over the whole list), odd ones are not. */
export function generateSegmentContexts(count: number, seed = 99): BenchContext[] {
  const base = generateContexts(count, seed);
  const rand = prng(seed + 1);
  return base.map((c, i) => ({
    ...c,
    targetingKey: i % 2 === 0 ? segmentUserKey(Math.floor(rand() * SEGMENT_SIZE)) : `outsider-${i}`,
  }));
}

/**
 * What a logical flag should serve for a context, ignoring rollouts (returns the rollout's
 * variant list instead). Used to check every engine's rule decisions before timing.
 */
export function expectedDecision(flag: LogicalFlag, ctx: BenchContext, segments: LogicalSegment[]): string | string[] {
  for (const rule of flag.rules) if (matches(rule.when, ctx, segments)) return rule.variant;
  const f = flag.fallthrough;
  return "variant" in f ? f.variant : f.rollout.filter(([, w]) => w > 0).map(([v]) => v);
}

const memberSets = new WeakMap<LogicalSegment, Set<string>>();

function matches(c: LogicalCondition, ctx: BenchContext, segments: LogicalSegment[]): boolean {
  if ("segment" in c) {
    const seg = segments.find((s) => s.key === c.segment)!;
    let members = memberSets.get(seg);
    if (!members) memberSets.set(seg, (members = new Set(seg.included)));
    return members.has(ctx.targetingKey);
  }
  const v = (ctx as unknown as Record<string, unknown>)[c.attr];
  switch (c.op) {
    case "endsWith":
      return typeof v === "string" && c.values.some((s) => v.endsWith(s));
    case "in":
      return c.values.includes(v as string);
    case "equals":
      return v === c.values[0];
    case "gt":
      return typeof v === "number" && v > c.value;
  }
}

/**
 * Real flag documents and contexts arrive as JSON (KV snapshot, request body), so their strings
 * are flat. Generated ones are V8 cons-strings (`seg-user-${i}`), slower to hash and compare;
 * a JSON round trip gives every engine realistic input.
 */
export const asParsedJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Cheap checksum of a served value so the optimiser cannot drop an evaluation. */
export function consume(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (typeof v === "number") return v;
  if (v === true) return 1;
  if (v === false) return 2;
  return v === undefined || v === null ? 0 : 3;
}

/** n flags mixing what real environments hold: rules on attributes, percentage splits, static values. */
export function flagdDoc(n: number) {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = `flag-${i}`;
    switch (i % 4) {
      case 0:
        flags[key] = {
          state: "ENABLED",
          variants: { on: true, off: false },
          defaultVariant: "off",
          targeting: { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", "off"] },
        };
        break;
      case 1:
        flags[key] = {
          state: "ENABLED",
          variants: { red: "red", green: "green", blue: "blue" },
          defaultVariant: "red",
          targeting: {
            fractional: [
              ["red", 34],
              ["green", 33],
              ["blue", 33],
            ],
          },
        };
        break;
      case 2:
        flags[key] = { state: "ENABLED", variants: { low: 10, high: 100 }, defaultVariant: "low" };
        break;
      default:
        flags[key] = {
          state: "ENABLED",
          variants: { small: { items: 5, tier: "basic" }, big: { items: 50, tier: "premium" } },
          defaultVariant: "small",
          targeting: { if: [{ in: [{ var: "plan" }, ["pro", "enterprise"]] }, "big", "small"] },
        };
    }
  }
  return { flags };
}
