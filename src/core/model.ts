/**
 * The native flag model: what admins write, what the Durable Object stores and what snapshots
 * carry. zod/mini keeps the Worker bundle small (full zod cannot be tree-shaken).
 * @module
 */
import * as z from "zod/mini";
import { FLAG_KINDS } from "./lifecycle";

/**
 * Flag, segment and variant keys: no whitespace and no "/", so they sit in URL paths unescaped.
 * Not `__proto__`: keys become object keys (flagd `flags`, `variants`), where that one name sets
 * the prototype instead of adding a property, so it could not round-trip.
 */
export const KEY_PATTERN = /^(?!__proto__$)[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,255}$/;
export const Key = z.string().check(z.regex(KEY_PATTERN, "must match " + KEY_PATTERN.source));

export const FLAG_TYPES = ["boolean", "string", "number", "object"] as const;
export const FlagType = z.enum(FLAG_TYPES);
export type FlagType = z.infer<typeof FlagType>;

export const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof Scalar>;

export const Metadata = z.record(z.string(), Scalar);
export type Metadata = z.infer<typeof Metadata>;

/** Operators of native conditions. Single-value operators read `values[0]`. */
export const OPERATORS = [
  "equals",
  "notEquals",
  "in",
  "notIn",
  "startsWith",
  "endsWith",
  "contains",
  "notContains",
  "matches",
  "lt",
  "lte",
  "gt",
  "gte",
  "semverEq",
  "semverNeq",
  "semverLt",
  "semverLte",
  "semverGt",
  "semverGte",
  "semverTilde",
  "semverCaret",
  "before",
  "after",
] as const;
export const Operator = z.enum(OPERATORS);
export type Operator = z.infer<typeof Operator>;

/**
 * A condition tree. `attribute` is a dotted path into the evaluation context
 * (`targetingKey`, `email`, `user.plan`; `$flagd.flagKey` and `$flagd.timestamp` too).
 */
export type Condition =
  | { attribute: string; op: Operator; values: Scalar[] }
  | { segment: string }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const Condition: z.ZodMiniType<Condition> = z.union([
  z.object({
    attribute: z.string().check(z.minLength(1)),
    op: Operator,
    values: z.array(Scalar).check(z.maxLength(10_000)),
  }),
  z.object({ segment: Key }),
  z.object({
    get all() {
      return z.array(Condition).check(z.minLength(1));
    },
  }),
  z.object({
    get any() {
      return z.array(Condition).check(z.minLength(1));
    },
  }),
  z.object({
    get not() {
      return Condition;
    },
  }),
]);

export const WeightedVariant = z.object({ variant: Key, weight: z.number().check(z.int(), z.gte(0)) });

/** What a matched rule (or the fallthrough) serves: one variant, or a percentage rollout. */
export const Serve = z.union([
  z.object({ variant: Key }),
  z.object({
    rollout: z.object({
      /** Context path hashed for bucketing; default `targetingKey`. The flag key is always prefixed, as flagd does. */
      bucketBy: z.optional(z.string().check(z.minLength(1))),
      variants: z.array(WeightedVariant).check(z.minLength(1)),
    }),
  }),
]);
export type Serve = z.infer<typeof Serve>;

export const Rule = z.object({
  id: z.optional(z.string()),
  description: z.optional(z.string()),
  when: Condition,
  serve: Serve,
});
export type Rule = z.infer<typeof Rule>;

/** Individual targeting: these targeting keys get this variant, before any rule. */
export const Target = z.object({ variant: Key, values: z.array(z.string()) });

export const Prerequisite = z.object({ flag: Key, variant: Key });

export const Flag = z.object({
  key: Key,
  type: FlagType,
  variants: z.record(Key, z.json()),
  /** null or absent: no rule matched → no value, the client uses its code default (flagd semantics). */
  defaultVariant: z.optional(z.nullable(Key)),
  enabled: z._default(z.boolean(), true),
  /** Visible to client (browser/mobile) SDK keys. Server keys see every flag. */
  clientVisible: z._default(z.boolean(), false),
  description: z.optional(z.string().check(z.maxLength(2000))),
  /** Lifecycle kind (lifecycle.ts): sets the expected lifetime; absent means `release`. No effect on evaluation. */
  kind: z.optional(z.enum(FLAG_KINDS)),
  tags: z.optional(z.array(z.string())),
  metadata: z.optional(Metadata),
  prerequisites: z.optional(z.array(Prerequisite)),
  targets: z.optional(z.array(Target)),
  rules: z.optional(z.array(Rule)),
  /** Served when no target or rule matches; default: the default variant. */
  fallthrough: z.optional(Serve),
  /**
   * flagd JSON Logic targeting, kept as imported when it has no native form. A flag has either
   * `targeting` or `targets`/`rules`/`fallthrough`, never both.
   */
  targeting: z.optional(z.unknown()),
});
export type Flag = z.infer<typeof Flag>;
export type FlagInput = z.input<typeof Flag>;

export const Segment = z.object({
  key: Key,
  description: z.optional(z.string()),
  /** Targeting keys always in the segment (kept as a Set once compiled: 100k keys stay O(1)). */
  included: z._default(z.array(z.string()), []),
  /** Targeting keys never in the segment; wins over `included` and `rules`. */
  excluded: z._default(z.array(z.string()), []),
  /** A context matching any of these is in the segment. */
  rules: z._default(z.array(Condition), []),
});
/**
 * Where a big segment's batch-added keys are (core/wire/big-segments.ts): set by the store only,
 * never read from input (the zod schema above does not have it, so parsing drops it).
 */
export interface BigKeys {
  /** Keys in the shards. */
  count: number;
  /** Shard names by index ("" for an empty shard); a power of two of them. */
  shards: string[];
  /** The environment version whose batch wrote this key set (rollback restores it). */
  version: number;
}
export type Segment = z.infer<typeof Segment> & { bigKeys?: BigKeys };

/** One environment's definitions: what a snapshot carries and what compiles. */
export const EnvironmentDoc = z.object({
  flags: z.array(Flag),
  segments: z._default(z.array(Segment), []),
  /** flagd flag-set metadata, merged under each flag's own metadata. */
  metadata: z.optional(Metadata),
  /** flagd `$evaluators` kept for export; imported targeting already has them inlined. */
  evaluators: z.optional(z.record(z.string(), z.unknown())),
});
export type EnvironmentDoc = Omit<z.infer<typeof EnvironmentDoc>, "segments"> & { segments: Segment[] };
export type EnvironmentDocInput = z.input<typeof EnvironmentDoc>;
