/**
 * What travels on the insights queue: one message type per job, discriminated by `type`, so the
 * consumer (consumer.ts) dispatches through one table and a new job (webhook deliveries) is one
 * more schema and one more handler, not another queue.
 *
 * `usage`: one isolate's counts for one environment over one window (at most one minute, never
 * across a minute boundary, so every count lands in exactly one minute and one hour bucket).
 * `id` is unique per message (isolate id + sequence) and survives redelivery and the edge's own
 * re-send of a failed batch, so the store counts it once.
 * @module
 */
import * as z from "zod/mini";
import { KEY_PATTERN } from "../core/model";
import { ENVIRONMENT_PATTERN } from "../core/kv-contract";

/** Routes the edge counts requests for (the metrics route reports their sum). */
export const EDGE_ROUTES = ["single", "bulk", "stream", "snapshot", "preflight", "other"] as const;
export type EdgeRoute = (typeof EDGE_ROUTES)[number];
export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];
export const CACHE_LEVELS = ["memory", "cache", "miss"] as const;

const count = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const label = z.string().check(z.maxLength(256));

/** [flag, variant, reason, key kind, count]; variant "" when a value came without one. */
const EvaluationRow = z.tuple([
  z.string().check(z.regex(KEY_PATTERN)), label, z.string().check(z.regex(/^[A-Z_]{1,32}$/)), z.enum(["client", "server"]), count,
]);
/** [route, status class, count] */
const RequestRow = z.tuple([z.enum(EDGE_ROUTES), z.enum(STATUS_CLASSES), count]);

export const UsageMessage = z.object({
  type: z.literal("usage"),
  id: z.string().check(z.minLength(1), z.maxLength(100)),
  environment: z.string().check(z.regex(ENVIRONMENT_PATTERN)),
  /** Window start (ms since epoch); the minute and hour buckets are taken from it. */
  at: count,
  evaluations: z.array(EvaluationRow).check(z.maxLength(10_000)),
  requests: z.array(RequestRow).check(z.maxLength(100)),
  rateLimited: count,
  /** Answers served from a last-known-good snapshot because KV failed. */
  stale: count,
  cache: z.object({ memory: count, cache: count, miss: count }),
  /** Counts this isolate dropped earlier (send failures past its retry bound), reported late. */
  lost: z.object({ evaluations: count, requests: count }),
});
export type UsageMessage = z.infer<typeof UsageMessage>;

/** Every message type on the queue. */
export const QueueMessage = z.discriminatedUnion("type", [UsageMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** Queue names as in wrangler.toml: the consumer tells the dead-letter queue's batches apart by name. */
export const INSIGHTS_QUEUE = "edgeflags-insights";
export const INSIGHTS_DLQ = "edgeflags-insights-dlq";
