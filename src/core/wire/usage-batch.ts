/**
 * What an in-process SDK reports of its own evaluations, through `POST /sdk/v1/usage` (server
 * keys): one batch per window of counts, at most {@link USAGE_BATCH_MAX_BYTES} of JSON. The edge
 * turns a batch into one insights `usage` message (queue-messages.ts), so the store counts it
 * exactly like the edge's own summaries.
 *
 * A batch's `id` is the SDK's and stays the same on every retry of that batch: the message id is
 * made of the key's id and it, and the store applies a message id once, so a batch whose answer
 * was lost and that is sent again is counted once.
 *
 * What counts (here and at the edge) is an evaluation that answered a value:
 * {@link answeredWithValue}. Rows carry only the reasons such an answer can have.
 * @module
 */
import * as z from "zod/mini";
import type { EvaluationResult } from "../evaluation-types";
import { Key } from "../model";
import type { KeyRecord } from "./kv-layout";
import type { UsageMessage } from "./queue-messages";

/** A body past this is refused (413); an SDK splits its counts into batches below it. */
export const USAGE_BATCH_MAX_BYTES = 64 * 1024;
/** Rows per batch: a row is at least ~20 bytes of JSON, so the byte bound is the one that binds. */
export const USAGE_BATCH_MAX_ROWS = 5_000;
/** Batch ids: short enough that the key id and the batch id make a message id of ≤ 100 characters. */
export const USAGE_BATCH_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** A batch older than this is refused: the store remembers applied message ids for 15 days. */
export const USAGE_BATCH_MAX_AGE_MS = 7 * 86_400_000;
/** A batch dated further ahead than this is refused (clock skew allowance). */
export const USAGE_BATCH_MAX_AHEAD_MS = 5 * 60_000;

/** The reasons an evaluation that answered a value can have. */
export const COUNTED_REASONS = ["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT"] as const;

const count = z.int().check(z.positive());

export const UsageBatch = z.object({
  id: z.string().check(z.regex(USAGE_BATCH_ID, "must match " + USAGE_BATCH_ID.source)),
  /** When the window's counting began (ms since epoch): the minute and hour buckets come from it. */
  at: z.int().check(z.nonnegative()),
  /** [flag, variant ("" when a value came without one), reason, count] */
  evaluations: z
    .array(z.tuple([Key, z.string().check(z.maxLength(256)), z.enum(COUNTED_REASONS), count]))
    .check(z.maxLength(USAGE_BATCH_MAX_ROWS)),
  /** Evaluations the SDK counted but could not keep (its memory bound), reported late. */
  lost: z.optional(z.int().check(z.nonnegative())),
});
export type UsageBatch = z.infer<typeof UsageBatch>;

/** Whether a result counts as an evaluation: a value was answered (OFREP 200 with `value`). */
export function answeredWithValue(r: EvaluationResult): boolean {
  return r.value !== undefined && r.reason !== "DISABLED" && r.reason !== "ERROR" && r.errorCode === undefined;
}

/**
 * The insights message for `batch`, reported with `key`: its id is the key's id and the batch's.
 * The edge's usage route queues it; the Workers SDK queues it itself through a queue binding.
 */
export function sdkUsageMessage(batch: UsageBatch, key: KeyRecord): UsageMessage {
  return {
    type: "usage",
    id: `sdk-${key.id}-${batch.id}`,
    environment: key.environment,
    at: batch.at,
    evaluations: batch.evaluations.map(([flag, variant, reason, n]) => [flag, variant, reason, key.kind, n]),
    requests: [],
    rateLimited: 0,
    stale: 0,
    cache: { memory: 0, cache: 0, miss: 0 },
    lost: { evaluations: batch.lost ?? 0, requests: 0 },
  };
}
