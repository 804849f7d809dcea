/**
 * The hot read path: OFREP evaluation, the change stream and the SDK snapshot.
 *
 * | route | auth | answers |
 * |---|---|---|
 * | `POST /ofrep/v1/evaluate/flags/{key}` | SDK key | 200, 400 (PARSE_ERROR, INVALID_CONTEXT, GENERAL and other evaluation errors), 401, 404 FLAG_NOT_FOUND (also: nothing published), 429, 503 |
 * | `POST /ofrep/v1/evaluate/flags` | SDK key | 200 (+ETag unless time-dependent; `{flags:[],metadata:{version:0}}` when nothing is published), 304, 400, 401, 429, 503 |
 * | `GET /ofrep/v1/stream?token=` | signed token | 200 text/event-stream, 401, 404 (no secret configured / unknown environment), 503 |
 * | `GET /sdk/v1/snapshot[?format=flagd]` | server key | 200 (+ETag, +`X-Edgeflags-Stream`), 304, 400 (format), 401, 403 (client key), 404 (never published), 429, 503 |
 * | `POST /sdk/v1/usage` | server key | 202, 400, 401, 403, 413, 429, 503 (insights/sdk-usage.ts) |
 * | `OPTIONS /ofrep/*` | none | 204 CORS preflight |
 * | other methods on `/ofrep/v1/evaluate/flags[/{key}]` | none | 405 `{errorCode:"METHOD_NOT_ALLOWED"}` + `Allow` |
 *
 * Bulk answers for contexts without `targetingKey` and the snapshot come through isolate memory
 * and then the Cache API before being evaluated (edge-cache.ts; `X-Edgeflags-Cache` says which).
 *
 * 503 (with `Retry-After: 1`) means flag storage could not be read and nothing was cached yet;
 * once a snapshot is held it keeps answering through KV failures (bulk `metadata.stale: true`).
 * Auth failures answer `{errorCode:"UNAUTHORIZED"|"FORBIDDEN"|"RATE_LIMITED", errorDetails}`.
 *
 * Reads only isolate memory and KV (snapshot-cache.ts); the change stream alone talks to Durable
 * Objects (its relay shard, through the isolate's hub: stream-hub.ts).
 * @module
 */
import { Hono, type Context } from "hono";
import type { CompiledEnvironment, EvaluationResult } from "../core/evaluation-types";
import { bigSegmentShards } from "./big-segment-shards";
import type { KeyKind, KeyRecord } from "../core/wire/kv-layout";
import { openEnvironment } from "../core/lazy-compile";
import { exportFlagd } from "../core/flagd/export";
import { heartbeatMs } from "../core/wire/stream-protocol";
import type { EdgeBindings as Env } from "./bindings";
import { sseStream, SSE_HEADERS } from "./change-stream";
import { hubFor } from "./stream-hub";
import { readContext } from "./context-body";
import { cors } from "./cors";
import { sha256Hex } from "../core/sha256";
import { bulkCacheUrl, CACHE_HEADER, memoKey, snapshotCacheUrl, throughLevels, type CacheSource } from "./edge-cache";
import { canonicalJson, hash64 } from "../core/canonical";
import { bulkEtag, bulkEtagVersion, ifNoneMatchHits, ifNoneMatchTags, snapshotEtag, snapshotEtagVersion } from "./etag";
import { notFoundDetails, ofrepError, ofrepItemsJson, ofrepJson, ofrepStatus } from "./ofrep";
import { clientAddress, failureGate, limiterFor } from "./rate-limit";
import { authenticate, authenticateDigest, type AuthResult, type FailureGate } from "./sdk-keys";
import { sharedSnapshotCache, type Loaded, type Lookup } from "./snapshot-cache";
import type { SnapshotRead } from "../core/wire/snapshot-text";
import { currentStreamToken, streamSecret, verifyStreamToken, type StreamClaims } from "./stream-token";
import { insightsEnabled, noteKey, noteResults, noteReusedBulk, noteSnapshot } from "./insights/hooks";
import { readUsageBatch } from "./insights/sdk-usage";
import { sdkUsageMessage } from "../core/wire/usage-batch";

type C = Context<{ Bindings: Env }>;

const snapshots = (c: C) => sharedSnapshotCache(c.env, openSnapshot);
/**
 * Each flag compiles when first evaluated: a cold isolate's first answer parses and compiles one
 * flag. Big segments' keys are answered from the shards the isolate holds (big-segment-shards.ts).
 */
const openSnapshot = (snapshot: SnapshotRead) =>
  openEnvironment(snapshot.source, { bigKeys: bigSegmentShards.lookup(snapshot.environment) });

export const edgeApp = new Hono<{ Bindings: Env }>();

/** What clients are told about idle streams (OFREP default). */
const INACTIVITY_DELAY_SEC = 120;

edgeApp.use("/ofrep/*", cors());

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

function unauthorized(detail: string): Response {
  return json(ofrepError("UNAUTHORIZED", detail), 401, { "WWW-Authenticate": 'Bearer realm="edgeflags"' });
}

function rateLimited(detail: string, retryAfterSeconds: number): Response {
  return json(ofrepError("RATE_LIMITED", detail), 429, { "Retry-After": String(retryAfterSeconds) });
}

/** A refused authentication as its OFREP answer. */
function refusal(auth: Extract<AuthResult, { ok: false }>): Response {
  if (auth.status === 503) return json(ofrepError("GENERAL", auth.detail), 503, { "Retry-After": "1" });
  if (auth.status === 429) return rateLimited(auth.detail, auth.retryAfterSeconds);
  return unauthorized(auth.detail);
}

/** The key's rate limit (every OFREP request and stream connect spends one token). */
function charge(c: C, key: KeyRecord): Response | null {
  const taken = limiterFor(c.env).take(key.id);
  return taken.ok
    ? null
    : rateLimited(
        `rate limit exceeded for this SDK key; retry in ${taken.retryAfterSeconds} s`,
        taken.retryAfterSeconds,
      );
}

/** Authenticates, applies the key's rate limit, and refuses client keys on server-only routes. */
async function admit(c: C, serverOnly: boolean): Promise<{ key: KeyRecord; digest: string } | Response> {
  const auth = await authenticate(c.req.raw.headers, c.env.FLAGS_KV, {
    ttlMs: snapshots(c).refreshMs,
    failures: failureGate(clientAddress(c.req.raw.headers)),
  });
  if (!auth.ok) return refusal(auth);
  noteKey(c.req.raw, auth.key);
  if (serverOnly && auth.key.kind !== "server")
    return json(ofrepError("FORBIDDEN", "this route needs a server SDK key"), 403);
  return charge(c, auth.key) ?? { key: auth.key, digest: auth.digest };
}

/** The lookup failed: nothing published (`none`) or storage unreachable with nothing cached. */
function unavailable(lookup: Extract<Lookup, { ok: false }>): Response {
  return json(ofrepError("GENERAL", lookup.detail), 503, { "Retry-After": "1" });
}

const timeDependence = new WeakMap<CompiledEnvironment, { client: boolean; server: boolean }>();
/** Whether any flag this key kind can see answers differently with time alone. */
function dependsOnTime(compiled: CompiledEnvironment, kind: KeyKind): boolean {
  let t = timeDependence.get(compiled);
  if (!t) {
    t = { server: compiled.timeDependent, client: compiled.flags.some((f) => f.clientVisible && f.timeDependent) };
    timeDependence.set(compiled, t);
  }
  return t[kind];
}

/**
 * The lowest version this client may be answered with: `?flagConfigEtag=N` from a refetch the
 * change stream triggered, or the version inside its own `If-None-Match` (it already saw that
 * version, perhaps from another isolate; answering with an older one would step back in time).
 */
function versionHint(c: C, seen: number): number {
  const raw = c.req.query("flagConfigEtag");
  const asked = raw && /^\d{1,12}$/.test(raw) ? Number(raw) : 0;
  return Math.max(asked, seen);
}

edgeApp.post("/ofrep/v1/evaluate/flags/:key", async (c) => {
  const flagKey = c.req.param("key");
  const admitted = await admit(c, false);
  if (admitted instanceof Response) return admitted;
  const { key } = admitted;
  const read = await readContext(c.req.raw);
  if (!read.ok) return json(ofrepError(read.errorCode, read.errorDetails, flagKey), 400);
  const lookup = await snapshots(c).get(c.env.FLAGS_KV, key.environment);
  if (!lookup.ok) {
    if (lookup.reason === "none")
      return json(ofrepError("FLAG_NOT_FOUND", `flag '${flagKey}' was not found: ${lookup.detail}`, flagKey), 404);
    return unavailable(lookup);
  }
  const compiled = lookup.snapshot.compiled;
  const flag = compiled.get(flagKey);
  // A flag hidden from client keys is indistinguishable from an absent one.
  if (!flag || (key.kind === "client" && !flag.clientVisible)) {
    return json(ofrepError("FLAG_NOT_FOUND", notFoundDetails(flagKey), flagKey), 404);
  }
  noteSnapshot(c.req.raw, lookup.snapshot);
  const result = await bigSegmentShards.evaluateWithShards(c.env.FLAGS_KV, () =>
    compiled.evaluate(flagKey, read.context),
  );
  noteResults(c.req.raw, c.env, [result]);
  return new Response(ofrepJson(result), {
    status: ofrepStatus(result),
    headers: { "Content-Type": "application/json" },
  });
});

edgeApp.post("/ofrep/v1/evaluate/flags", async (c) => {
  const admitted = await admit(c, false);
  if (admitted instanceof Response) return admitted;
  const { key } = admitted;
  const read = await readContext(c.req.raw);
  if (!read.ok) return json(ofrepError(read.errorCode, read.errorDetails), 400);
  const eventStreams = await eventStreamsFor(c, admitted);
  const ifNoneMatch = ifNoneMatchTags(c.req.header("if-none-match"));
  const lookup = await snapshots(c).get(c.env.FLAGS_KV, key.environment, versionHint(c, bulkEtagVersion(ifNoneMatch)));
  if (!lookup.ok) {
    // Never published: an empty flag set (every flag then resolves to FLAG_NOT_FOUND in the
    // provider), with the stream so the client hears about the first publish. No ETag.
    if (lookup.reason === "none") return bulkResponse("[]", { version: 0 }, eventStreams, null);
    return unavailable(lookup);
  }
  const snap = lookup.snapshot;
  const timeDependent = dependsOnTime(snap.compiled, key.kind);
  const canonical = canonicalJson(read.context);
  const etag = timeDependent ? null : bulkEtag(snap.version, key.kind, hash64(canonical));
  if (etag && ifNoneMatchHits(ifNoneMatch, etag)) {
    return new Response(null, { status: 304, headers: { ETag: etag } });
  }
  // Only anonymous, time-independent answers may be reused (see edge-cache.ts for why).
  const cacheable = read.context.targetingKey === undefined && !timeDependent;
  const memoryKey = cacheable ? memoKey("bulk", snap.environment, snap.version, key.kind, canonical) : undefined;
  const evaluateAll = () => snap.compiled.evaluateAll(read.context, { clientOnly: key.kind === "client" });
  const rendered = (results: EvaluationResult[]) => {
    noteResults(c.req.raw, c.env, results, memoryKey);
    return ofrepItemsJson(results);
  };
  // A reusable answer has no targetingKey, so it reaches no big segment's keys: no shard to read.
  const render = () => rendered(evaluateAll());
  const { text: flagsJson, source } =
    memoryKey !== undefined
      ? await throughLevels({
          memoryKey,
          cacheUrl: async () => bulkCacheUrl(snap.environment, snap.version, key.kind, await sha256Hex(canonical)),
          render,
          waitUntil: waitUntilOf(c),
        })
      : {
          text: rendered(await bigSegmentShards.evaluateWithShards(c.env.FLAGS_KV, evaluateAll)),
          source: "miss" as const,
        };
  noteSnapshot(c.req.raw, snap);
  if (memoryKey !== undefined && source !== "miss") noteReusedBulk(c.req.raw, c.env, memoryKey, flagsJson);
  const metadata: Record<string, number | boolean> = { version: snap.version };
  if (snap.stale) metadata.stale = true;
  return bulkResponse(flagsJson, metadata, eventStreams, etag, source);
});

/** Evaluation routes are POST only (OFREP); anything else but the CORS preflight is a JSON 405. */
for (const path of ["/ofrep/v1/evaluate/flags/:key", "/ofrep/v1/evaluate/flags"]) {
  edgeApp.all(path, (c) =>
    json(ofrepError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; use POST`), 405, {
      Allow: "POST, OPTIONS",
    }),
  );
}

/** `executionCtx.waitUntil`, or awaiting nothing when there is no execution context (app.request in tests). */
function waitUntilOf(c: C): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      void p;
    }
  };
}

function bulkResponse(
  flagsJson: string,
  metadata: Record<string, number | boolean>,
  eventStreams: string,
  etag: string | null,
  source?: CacheSource,
): Response {
  // To the client, bulk answers are always revalidated: `private, no-cache` + ETag (the answer is
  // keyed by a secret header the URL does not show, and a new version changes it without a new
  // URL), or `no-store` when time-dependent. The `public` lifetime is only on the level-2 copy.
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (etag) {
    headers.ETag = etag;
    headers["Cache-Control"] = "private, no-cache";
  } else {
    headers["Cache-Control"] = "no-store";
  }
  if (source) headers[CACHE_HEADER] = source;
  return new Response(`{"flags":${flagsJson},"metadata":${JSON.stringify(metadata)}${eventStreams}}`, {
    status: 200,
    headers,
  });
}

/** `,"eventStreams":[…]` for bulk answers, or "" when no signing secret is configured. */
async function eventStreamsFor(c: C, admitted: { key: KeyRecord; digest: string }): Promise<string> {
  const url = await streamUrlFor(c, admitted);
  return url === undefined
    ? ""
    : `,"eventStreams":${JSON.stringify([{ type: "sse", url, inactivityDelaySec: INACTIVITY_DELAY_SEC }])}`;
}

/** This key's change-stream URL (signed token), or undefined when no signing secret is configured. */
async function streamUrlFor(c: C, { key, digest }: { key: KeyRecord; digest: string }): Promise<string | undefined> {
  const secret = streamSecret(c.env);
  if (!secret) return undefined;
  const token = await currentStreamToken(secret, {
    environment: key.environment,
    kind: key.kind,
    keyId: key.id,
    keyDigest: digest,
  });
  return `${new URL(c.req.url).origin}/ofrep/v1/stream?token=${encodeURIComponent(token)}`;
}

/** Where the snapshot route tells an in-process SDK its change-stream URL (200 and 304 alike). */
const STREAM_HEADER = "X-Edgeflags-Stream";

/**
 * The key behind a stream token, as it is now: the same record (id, environment, kind) and not
 * revoked. Through the same key memory as every request, so re-checking many streams of one key
 * costs one KV read per refresh interval.
 */
async function streamKey(c: C, claims: StreamClaims, failures?: FailureGate): Promise<AuthResult> {
  const auth = await authenticateDigest(claims.keyDigest, c.env.FLAGS_KV, { ttlMs: snapshots(c).refreshMs, failures });
  if (!auth.ok) return auth;
  const k = auth.key;
  if (k.id !== claims.keyId || k.environment !== claims.environment || k.kind !== claims.kind) {
    failures?.spend();
    return { ok: false, status: 401, detail: "stream token does not match its SDK key" };
  }
  return auth;
}

edgeApp.get("/ofrep/v1/stream", async (c) => {
  const secret = streamSecret(c.env);
  if (!secret) return json(ofrepError("GENERAL", "change stream is not configured"), 404);
  const failures = failureGate(clientAddress(c.req.raw.headers));
  // The HMAC is paid for up front and refunded for a valid token (see failureGate).
  const spent = failures.spend();
  if (!spent.ok)
    return rateLimited(
      `too many failed authentications from this address; retry in ${spent.retryAfterSeconds} s`,
      spent.retryAfterSeconds,
    );
  const check = await verifyStreamToken(secret, c.req.query("token"));
  if (!check.ok) return unauthorized(check.detail);
  failures.refund();
  const claims = check.claims;
  const auth = await streamKey(c, claims, failures);
  if (!auth.ok) return refusal(auth);
  const limited = charge(c, auth.key);
  if (limited) return limited;
  const environment = claims.environment;
  const cache = snapshots(c);
  const colo = (c.req.raw as { cf?: { colo?: unknown } }).cf?.colo;
  // Looked up again at each heartbeat and on leaving: the hub a client joined is forgotten when a
  // tick finds no live client, and a late heartbeat then joins the environment's current hub.
  const hubNow = () =>
    hubFor(c.env, environment, typeof colo === "string" ? colo : undefined, (v) => cache.noteVersion(environment, v));
  const hub = hubNow();
  const { body, client } = sseStream({
    heartbeatMs: heartbeatMs(c.env),
    expiresAt: claims.expiresAt,
    // A KV failure (503) keeps the stream: only a definite refusal ends it.
    stillAllowed: async () => {
      const now = await streamKey(c, claims);
      return now.ok || now.status === 503;
    },
    onHeartbeat: () => hubNow().heartbeat(client),
    onGone: (gone) => {
      hub.leave(gone);
      const current = hubNow();
      if (current !== hub) current.leave(gone);
    },
  });
  if ((await hub.join(client)) !== "joined") {
    await body.cancel();
    return json(ofrepError("GENERAL", "change stream unavailable, poll instead"), 503, { "Retry-After": "5" });
  }
  return new Response(body, { status: 200, headers: SSE_HEADERS });
});

edgeApp.get("/sdk/v1/snapshot", async (c) => {
  const admitted = await admit(c, true);
  if (admitted instanceof Response) return admitted;
  const { key } = admitted;
  const format = c.req.query("format") ?? "native";
  if (format !== "native" && format !== "flagd") {
    return json({ error: { code: "INVALID_FORMAT", message: "format must be 'native' or 'flagd'" } }, 400);
  }
  // Like the bulk route, never older than what the client has seen (its If-None-Match) or was
  // told exists (`flagConfigEtag` from a change event): a lagging pointer must not step it back.
  const ifNoneMatch = ifNoneMatchTags(c.req.header("if-none-match"));
  const lookup = await snapshots(c).get(
    c.env.FLAGS_KV,
    key.environment,
    versionHint(c, snapshotEtagVersion(ifNoneMatch)),
  );
  const streamUrl = await streamUrlFor(c, admitted);
  const streamHeader: Record<string, string> = streamUrl === undefined ? {} : { [STREAM_HEADER]: streamUrl };
  if (!lookup.ok) {
    if (lookup.reason === "none")
      return json({ error: { code: "NOT_FOUND", message: lookup.detail } }, 404, streamHeader);
    return unavailable(lookup);
  }
  const snap = lookup.snapshot;
  noteSnapshot(c.req.raw, snap);
  const etag = snapshotEtag(snap.version, format);
  // To the client: `private` because the URL is the same for every environment (the secret key
  // header picks it), so a shared cache in front must never store it; `no-cache` because a new
  // version changes the body under the same URL, so each reuse revalidates with the ETag (cheap
  // 304). The long `public` lifetime belongs only to the level-2 copy under its versioned URL.
  const headers: Record<string, string> = {
    ETag: etag,
    "Cache-Control": "private, no-cache",
    "Content-Type": "application/json",
    ...streamHeader,
  };
  if (ifNoneMatchHits(ifNoneMatch, etag))
    return new Response(null, {
      status: 304,
      headers: { ETag: etag, "Cache-Control": headers["Cache-Control"], ...streamHeader },
    });
  const { text, source } = await throughLevels({
    memoryKey: memoKey("snapshot", snap.environment, snap.version, format),
    cacheUrl: async () => snapshotCacheUrl(snap.environment, snap.version, format),
    render: () => renderSnapshot(snap, format),
    waitUntil: waitUntilOf(c),
  });
  headers[CACHE_HEADER] = source;
  return new Response(text, { status: 200, headers });
});

edgeApp.post("/sdk/v1/usage", async (c) => {
  const admitted = await admit(c, true);
  if (admitted instanceof Response) return admitted;
  const read = await readUsageBatch(c.req.raw);
  if (!read.ok)
    return json(
      { error: { code: read.code, message: read.message, ...(read.issues ? { issues: read.issues } : {}) } },
      read.status,
    );
  // Insights off: nothing is counted, and there is nothing the SDK could retry into.
  if (!insightsEnabled(c.env)) return json({ accepted: false }, 202);
  const message = sdkUsageMessage(read.batch, admitted.key);
  try {
    await c.env.INSIGHTS_QUEUE!.send(message, { contentType: "json" });
  } catch {
    return json(
      { error: { code: "QUEUE_UNAVAILABLE", message: "usage could not be queued; send the same batch again" } },
      503,
      { "Retry-After": "1" },
    );
  }
  return json({ accepted: true, id: message.id }, 202);
});

function renderSnapshot(snap: Loaded, format: "native" | "flagd"): string {
  // The whole document is parsed here only: evaluation reads one flag's text at a time.
  const doc = snap.doc();
  if (!doc) throw new Error(`snapshot ${snap.environment}@${snap.version} does not parse`);
  if (format === "native") {
    return JSON.stringify({ environment: snap.environment, version: snap.version, publishedAt: snap.publishedAt, doc });
  }
  const { document, warnings } = exportFlagd(doc);
  return JSON.stringify(warnings.length > 0 ? { ...document, warnings } : document);
}
