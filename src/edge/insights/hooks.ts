/**
 * Where the edge routes meet the insights aggregator: one middleware (mounted in src/app.ts on
 * the edge paths) that counts each answered request and runs flushes in `waitUntil`, and a few
 * `note*` calls the routes make with what only they know (the key, the snapshot, the results).
 *
 * Notes hang off the Request in a WeakMap, so routes need no typed context variable and nothing
 * outlives the request. With INSIGHTS = "off" or no queue binding, the middleware creates no note
 * and every `note*` call is a WeakMap miss.
 *
 * Each answered request also writes one Analytics Engine data point when the `EDGE_METRICS`
 * binding exists (production; a no-op locally): blobs route, environment, status class, cache
 * level; doubles status, snapshot age in seconds; index environment.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { EvaluationResult } from "../../core/evaluation-types";
import type { KeyKind, KeyRecord } from "../../core/wire/kv-layout";
import type { EdgeBindings as Env } from "../bindings";
import type { EdgeRoute, UsageMessage } from "../../core/wire/queue-messages";
import { Aggregator, statusClass } from "./aggregator";

/** Seconds a count may wait in the isolate before it is sent (INSIGHTS_WINDOW_SECONDS). */
export const DEFAULT_WINDOW_SECONDS = 10;
export const MAX_WINDOW_SECONDS = 10;
/** A queue `sendBatch` carries at most 100 messages and 256 KB. */
const SEND_BATCH_MESSAGES = 100;
const SEND_BATCH_BYTES = 200_000;

interface Note {
  environment: string | null;
  kind: KeyKind;
  stale: boolean;
  /** Seconds since the answering snapshot was published, when one answered. */
  snapshotAge: number | null;
}

const notes = new WeakMap<Request, Note>();
let aggregator: Aggregator | null = null;
let aggregatorQueue: Queue | null = null;

export function insightsEnabled(env: Env): boolean {
  return env.INSIGHTS_QUEUE !== undefined && env.INSIGHTS !== "off";
}

function windowMs(env: Env): number {
  const raw = Number(env.INSIGHTS_WINDOW_SECONDS);
  const seconds = Number.isFinite(raw) && raw > 0 ? Math.min(raw, MAX_WINDOW_SECONDS) : DEFAULT_WINDOW_SECONDS;
  return seconds * 1000;
}

/** The isolate's aggregator, bound to the queue of the first request that needed it. */
function aggregatorFor(env: Env): Aggregator {
  const queue = env.INSIGHTS_QUEUE!;
  if (!aggregator || aggregatorQueue !== queue) {
    aggregatorQueue = queue;
    aggregator = new Aggregator({ windowMs: windowMs(env), send: (messages) => sendInBatches(queue, messages) });
  }
  return aggregator;
}

async function sendInBatches(queue: Queue, messages: UsageMessage[]): Promise<void> {
  let batch: MessageSendRequest[] = [];
  let bytes = 0;
  for (const body of messages) {
    const size = JSON.stringify(body).length;
    if (batch.length > 0 && (batch.length >= SEND_BATCH_MESSAGES || bytes + size > SEND_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body, contentType: "json" });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

export function routeOf(method: string, path: string): EdgeRoute {
  if (method === "OPTIONS") return "preflight";
  if (path === "/ofrep/v1/evaluate/flags") return "bulk";
  if (path.startsWith("/ofrep/v1/evaluate/flags/")) return "single";
  if (path === "/ofrep/v1/stream") return "stream";
  if (path === "/sdk/v1/snapshot") return "snapshot";
  return "other";
}

/** Counts every request below the path it is mounted on, after its answer is ready. */
export function insights(): MiddlewareHandler<{ Bindings: Env }> {
  return async function insights(c, next) {
    if (!insightsEnabled(c.env)) return next();
    const note: Note = { environment: null, kind: "server", stale: false, snapshotAge: null };
    notes.set(c.req.raw, note);
    await next();
    const route = routeOf(c.req.method, c.req.path);
    const status = c.res.status;
    const cache = c.res.headers.get("x-edgeflags-cache");
    c.env.EDGE_METRICS?.writeDataPoint({
      blobs: [route, note.environment ?? "", statusClass(status), cache ?? ""],
      doubles: [status, note.snapshotAge ?? -1],
      indexes: [note.environment ?? ""],
    });
    const agg = aggregatorFor(c.env);
    agg.request(note.environment, route, status, cache, note.stale);
    const next_ = agg.tick();
    if (next_.flush) waitUntil(c, agg.flush());
    else if (next_.timerMs !== undefined) {
      waitUntil(
        c,
        new Promise((resolve) => setTimeout(resolve, next_.timerMs! + 1)).then(() => agg.flush()),
      );
    }
  };
}

function waitUntil(c: { executionCtx: ExecutionContext }, p: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(p);
  } catch {
    void p; // no execution context (app.request in tests): let it run
  }
}

// ---- notes from the routes ---------------------------------------------------------------------

/** The request's SDK key: attributes it to an environment (before the rate limit, so 429s count). */
export function noteKey(request: Request, key: KeyRecord): void {
  const note = notes.get(request);
  if (!note) return;
  note.environment = key.environment;
  note.kind = key.kind;
}

/** The snapshot that answered: stale (last known good) or not, and how old. */
export function noteSnapshot(request: Request, snapshot: { stale: boolean; publishedAt: string }): void {
  const note = notes.get(request);
  if (!note) return;
  note.stale = snapshot.stale;
  note.snapshotAge = (Date.now() - Date.parse(snapshot.publishedAt)) / 1000;
}

/** Evaluations computed for this request; `shapeKey` when the answer may be reused (bulk memo key). */
export function noteResults(request: Request, env: Env, results: readonly EvaluationResult[], shapeKey?: string): void {
  const note = notes.get(request);
  if (!note?.environment) return;
  aggregatorFor(env).results(note.environment, note.kind, results, shapeKey);
}

/** A bulk answer reused from the memo or the Cache API (no evaluation ran). */
export function noteReusedBulk(request: Request, env: Env, shapeKey: string, flagsJson: string): void {
  const note = notes.get(request);
  if (!note?.environment) return;
  aggregatorFor(env).cachedBulk(note.environment, note.kind, shapeKey, flagsJson);
}
