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
import { KEY_PATTERN } from "../model";
import { ENVIRONMENT_PATTERN, type KeyKind } from "./kv-layout";

/** Routes the edge counts requests for (the metrics route reports their sum). */
export const EDGE_ROUTES = ["single", "bulk", "stream", "snapshot", "preflight", "other"] as const;
export type EdgeRoute = (typeof EDGE_ROUTES)[number];
export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

type Counts<K extends string> = Record<K, number>;

export interface UsageMessage {
  type: "usage";
  id: string;
  environment: string;
  /** Window start (ms since epoch); the minute and hour buckets are taken from it. */
  at: number;
  /** [flag, variant ("" when a value came without one), reason, key kind, count] */
  evaluations: [string, string, string, KeyKind, number][];
  /** [route, status class, count] */
  requests: [EdgeRoute, StatusClass, number][];
  rateLimited: number;
  /** Answers served from a last-known-good snapshot because KV failed. */
  stale: number;
  cache: Counts<"memory" | "cache" | "miss">;
  /** Counts this isolate dropped earlier (send failures past its retry bound), reported late. */
  lost: Counts<"evaluations" | "requests">;
}

/**
 * `webhook`: one delivery of one event to one webhook. `id` is the `webhook-id` header, the same
 * on every attempt; `attempt` counts from 1 and grows each time the consumer re-queues it after a
 * failure (webhook-delivery.ts). The secret never travels on the queue: the consumer reads it
 * from the environment's Durable Object, so a deleted webhook stops receiving at once.
 */
export interface WebhookMessage {
  type: "webhook";
  id: string;
  environment: string;
  webhook: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
  attempt: number;
}

/** Every message type on the queue. */
export type QueueMessage = UsageMessage | WebhookMessage;

/** Events are small (no diffs): a body past this is not ours. */
const MAX_WEBHOOK_BODY = 64 * 1024;

const MAX_ROWS = 10_000;
const REASON = /^[A-Z_]{1,32}$/;
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const hasCounts = (v: unknown, names: readonly string[]) => isObject(v) && names.every((n) => isCount(v[n]));
const rows = (v: unknown, row: (r: unknown[]) => boolean) =>
  Array.isArray(v) && v.length <= MAX_ROWS && v.every((r) => Array.isArray(r) && row(r));

/**
 * Checks a queue body (written by our own edge, but checked like any input: a bad one must not
 * reach SQL). Hand-written rather than zod: the Worker bundle is a cold-start cost and zod's
 * tuple and union schemas would add more than this whole module.
 */
export function parseQueueMessage(body: unknown): { ok: true; value: QueueMessage } | { ok: false; error: string } {
  if (!isObject(body)) return { ok: false, error: "not an object" };
  if (body.type === "webhook") return parseWebhookMessage(body);
  if (body.type !== "usage") return { ok: false, error: `unknown message type ${JSON.stringify(body.type)}` };
  const m = body;
  const valid =
    typeof m.id === "string" &&
    m.id.length > 0 &&
    m.id.length <= 100 &&
    typeof m.environment === "string" &&
    ENVIRONMENT_PATTERN.test(m.environment) &&
    isCount(m.at) &&
    isCount(m.rateLimited) &&
    isCount(m.stale) &&
    hasCounts(m.cache, ["memory", "cache", "miss"]) &&
    hasCounts(m.lost, ["evaluations", "requests"]) &&
    rows(
      m.evaluations,
      (r) =>
        r.length === 5 &&
        typeof r[0] === "string" &&
        KEY_PATTERN.test(r[0]) &&
        typeof r[1] === "string" &&
        r[1].length <= 256 &&
        typeof r[2] === "string" &&
        REASON.test(r[2]) &&
        (r[3] === "client" || r[3] === "server") &&
        isCount(r[4]),
    ) &&
    rows(
      m.requests,
      (r) =>
        r.length === 3 &&
        (EDGE_ROUTES as readonly unknown[]).includes(r[0]) &&
        (STATUS_CLASSES as readonly unknown[]).includes(r[1]) &&
        isCount(r[2]),
    );
  return valid ? { ok: true, value: m as unknown as UsageMessage } : { ok: false, error: "malformed usage message" };
}

function parseWebhookMessage(
  m: Record<string, unknown>,
): { ok: true; value: WebhookMessage } | { ok: false; error: string } {
  const id = (v: unknown) => typeof v === "string" && /^[A-Za-z0-9_-]{1,100}$/.test(v);
  const valid =
    id(m.id) &&
    id(m.webhook) &&
    typeof m.environment === "string" &&
    ENVIRONMENT_PATTERN.test(m.environment) &&
    typeof m.body === "string" &&
    m.body.length <= MAX_WEBHOOK_BODY &&
    Number.isSafeInteger(m.attempt) &&
    (m.attempt as number) >= 1;
  return valid
    ? { ok: true, value: m as unknown as WebhookMessage }
    : { ok: false, error: "malformed webhook message" };
}

/** Queue names as in wrangler.toml: the consumer tells the dead-letter queue's batches apart by name. */
export const INSIGHTS_QUEUE = "edgeflags-insights";
export const INSIGHTS_DLQ = "edgeflags-insights-dlq";
