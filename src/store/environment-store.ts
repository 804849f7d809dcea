/**
 * One environment's single writer and source of truth (a SQLite Durable Object, one per
 * environment via `ENV_STORE.idFromName(env)`). Thin on purpose: SQL lives in the *-repo modules,
 * validation in validate.ts, KV publishing in publish.ts.
 *
 * Every change runs its whole read-validate-write (zod, `compileEnvironment` of the resulting
 * document, If-Match, the writes, the version bump and the audit row) synchronously inside one
 * `transactionSync` before its first `await`, so concurrent calls cannot interleave: of 100
 * conflicting If-Match writes exactly one wins, and versions stay gapless. Publishing follows.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { CompiledEnvironment, EvaluationContext, EvaluationResult } from "../core/engine";
import type { EnvironmentDoc, Flag, Segment } from "../core/model";
import type { Issue } from "../core/result";
import { ENVIRONMENT_PATTERN, type KeyKind } from "../core/kv-contract";
import type { Env } from "../env";
import {
  SUBSCRIBE_PATH,
  type Actor, type Committed, type EnvironmentStoreApi, type HistoryEntry, type KeyInfo, type Stored, type StoreError, type VersionMessage,
} from "./api";
import { appendAudit, auditTime, clearAudit, pageAudit } from "./audit-repo";
import { applyDoc, docAt, loadDoc, sameList, summarize, unstore } from "./doc";
import * as flags from "./flags-repo";
import { displayPrefix, randomId, randomSecret, sha256Hex } from "./hash";
import * as keys from "./keys-repo";
import { bumpVersion, insertMeta, readMeta, setDeleted, setPublished, type Meta } from "./meta-repo";
import { DEFAULT_POINTER_INTERVAL_MS, MAX_SNAPSHOT_BYTES, Publisher, type PublishSource } from "./publish";
import { appendRevision, clearRevisions } from "./revisions-repo";
import { migrateStore } from "./schema";
import * as segments from "./segments-repo";
import { SnapshotCollector } from "./snapshot-gc";
import { recordSnapshot, supersedeBelow } from "./snapshots-repo";
import type { Sql } from "./sql";
import { compileDoc, parseDoc, parseFlag, parseSegment } from "./validate";

/**
 * How long an RPC waits for its change to reach KV before answering anyway (the alarm finishes
 * the job). Longer than the pointer spacing, so a successful publish is normally awaited and
 * "answered ⇒ visible to the local edge" holds.
 */
const RPC_PUBLISH_WAIT_MS = 2500;
/** A safety alarm after each commit, in case the object is evicted before its publish completes. */
const BACKSTOP_ALARM_MS = 10_000;
/** Segment key lists longer than this appear in the audit log as a count only. */
const AUDIT_KEY_LIST_MAX = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const notFound = (message: string): StoreError => ({ error: "not_found", message });
const invalid = (issues: Issue[]): StoreError => ({ error: "invalid", issues });
const stale = (what: string, current: number, expected: number): StoreError => ({
  error: "precondition_failed",
  message: `${what} is at version ${current}, not ${expected}`,
  currentVersion: current,
});

function auditSegment(segment: Segment): unknown {
  const list = (l: string[]) => (l.length <= AUDIT_KEY_LIST_MAX ? l : { count: l.length });
  return { ...segment, included: list(segment.included), excluded: list(segment.excluded) };
}

function pointerInterval(env: Env): number {
  const raw = Number(env.KV_POINTER_MIN_INTERVAL_MS);
  return Number.isFinite(raw) && raw >= 0 ? raw : DEFAULT_POINTER_INTERVAL_MS;
}

/** SQLite refuses rows over 2 MB: a user error (too large a definition), not a crash. */
function storageLimit(err: unknown): StoreError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/too ?big|toobig|too large|string or blob/i.test(message)) return invalid([{ path: "", message: `storage refused the change: ${message}` }]);
  return undefined;
}

export class EnvironmentStore extends DurableObject<Env> implements EnvironmentStoreApi {
  private readonly sql: Sql;
  /** Public for tests (`runInDurableObject`): its `kv` can be swapped for a failing wrapper. Fields are not RPC-callable. */
  readonly publisher: Publisher;
  /** Public for tests: its `graceMs` and `retryMs` can be shortened. */
  readonly snapshots: SnapshotCollector;
  /**
   * When publishing next needs the alarm (the backstop after a commit, or a retry after a KV
   * failure); undefined once an alarm run has flushed. In memory only: an evicted object still has
   * its stored alarm, and that run recomputes everything.
   */
  private publishAlarmAt: number | undefined;
  /** The current document, kept per version: validation of the next change starts from it. */
  private cache: { version: number; doc: EnvironmentDoc; json?: string } | undefined;
  /** The compiled current document (explain), kept per version. */
  private compiled: { version: number; env: CompiledEnvironment } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql as unknown as Sql;
    this.publisher = new Publisher(env.FLAGS_KV, this.publishSource(), pointerInterval(env));
    this.snapshots = new SnapshotCollector(this.sql, () => this.publisher.kv);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrateStore(this.sql));
    });
    // Keepalive pings are answered without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // ---- environment ----------------------------------------------------------------------------

  async create(name: string, actor: Actor): Promise<{ created: boolean; version: number }> {
    if (!ENVIRONMENT_PATTERN.test(name)) throw new Error(`invalid environment name ${JSON.stringify(name)}`);
    const meta = readMeta(this.sql);
    if (meta && meta.name !== name) throw new Error(`this store belongs to environment ${meta.name}, not ${name}`);
    if (meta && !meta.deleted) return { created: false, version: meta.version };
    const time = new Date().toISOString();
    let version = 0;
    this.ctx.storage.transactionSync(() => {
      if (meta) setDeleted(this.sql, false, time);
      else insertMeta(this.sql, name, time);
      version = bumpVersion(this.sql);
      appendRevision(this.sql, "doc", "", version, 0, "{}", null);
      appendAudit(this.sql, { version, time, actor, operation: "environment.create", diff: {} });
    });
    this.cache = { version, doc: { flags: [], segments: [] } };
    this.compiled = undefined;
    await this.afterCommit();
    return { created: true, version };
  }

  async info(): Promise<{ name: string; version: number; flags: number; segments: number } | null> {
    const meta = readMeta(this.sql);
    if (!meta || meta.deleted) return null;
    return { name: meta.name, version: meta.version, flags: flags.countFlags(this.sql), segments: segments.countSegments(this.sql) };
  }

  async destroy(actor: Actor): Promise<{ deleted: boolean }> {
    const meta = readMeta(this.sql);
    if (!meta || meta.deleted) return { deleted: false };
    const time = new Date().toISOString();
    // The version counter survives (meta row) so a re-created environment never reuses a version.
    this.ctx.storage.transactionSync(() => {
      flags.clearFlags(this.sql);
      segments.clearSegments(this.sql);
      clearRevisions(this.sql);
      clearAudit(this.sql);
      keys.revokeKeys(this.sql, time, actor);
      setDeleted(this.sql, true);
    });
    this.cache = undefined;
    this.compiled = undefined;
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.close(1000, "environment deleted"); } catch { /* already closed */ }
    }
    await this.afterCommit();
    return { deleted: true };
  }

  // ---- flags ----------------------------------------------------------------------------------

  async listFlags(): Promise<Stored<Flag>[] | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return flags.listFlags(this.sql);
  }

  async getFlag(key: string): Promise<Stored<Flag> | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return flags.getFlag(this.sql, key) ?? notFound(`no flag "${key}"`);
  }

  async putFlag(input: unknown, actor: Actor, ifMatch?: number): Promise<(Committed & { created: boolean; flag: Stored<Flag> }) | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const parsed = parseFlag(input);
    if (!parsed.ok) return invalid(parsed.errors);
    const flag = parsed.value;
    const existing = flags.getFlag(this.sql, flag.key);
    if (ifMatch !== undefined && (existing?.version ?? 0) !== ifMatch) return stale(`flag "${flag.key}"`, existing?.version ?? 0, ifMatch);
    const current = this.currentDoc(meta);
    const next: EnvironmentDoc = {
      ...current,
      flags: existing ? current.flags.map((f) => (f.key === flag.key ? flag : f)) : [...current.flags, flag],
    };
    const position = existing ? flags.flagPosition(this.sql, flag.key)! : flags.nextFlagPosition(this.sql);
    const version = this.commit(actor, "flag.put", flag.key, next, (v) => {
      flags.writeFlag(this.sql, flag, position, v);
      return { before: existing ? unstore(existing) : null, after: flag };
    });
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version, created: !existing, flag: { ...flag, version } };
  }

  async deleteFlag(key: string, actor: Actor, ifMatch?: number): Promise<Committed | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const existing = flags.getFlag(this.sql, key);
    if (!existing) return notFound(`no flag "${key}"`);
    if (ifMatch !== undefined && existing.version !== ifMatch) return stale(`flag "${key}"`, existing.version, ifMatch);
    const current = this.currentDoc(meta);
    const next: EnvironmentDoc = { ...current, flags: current.flags.filter((f) => f.key !== key) };
    const version = this.commit(actor, "flag.delete", key, next, (v) => {
      flags.removeFlag(this.sql, key, v);
      return { before: unstore(existing), after: null };
    });
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version };
  }

  async setFlagEnabled(key: string, enabled: boolean, actor: Actor, ifMatch?: number): Promise<(Committed & { flag: Stored<Flag> }) | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    if (typeof enabled !== "boolean") return invalid([{ path: "enabled", message: "must be a boolean" }]);
    const existing = flags.getFlag(this.sql, key);
    if (!existing) return notFound(`no flag "${key}"`);
    if (ifMatch !== undefined && existing.version !== ifMatch) return stale(`flag "${key}"`, existing.version, ifMatch);
    const before = unstore(existing);
    const flag: Flag = { ...before, enabled };
    const current = this.currentDoc(meta);
    const next: EnvironmentDoc = { ...current, flags: current.flags.map((f) => (f.key === key ? flag : f)) };
    const position = flags.flagPosition(this.sql, key)!;
    const version = this.commit(actor, "flag.toggle", key, next, (v) => {
      flags.writeFlag(this.sql, flag, position, v);
      return { before, after: flag };
    });
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version, flag: { ...flag, version } };
  }

  // ---- segments -------------------------------------------------------------------------------

  async listSegments(): Promise<Stored<Segment>[] | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return segments.listSegments(this.sql);
  }

  async getSegment(key: string): Promise<Stored<Segment> | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return segments.getSegment(this.sql, key) ?? notFound(`no segment "${key}"`);
  }

  async putSegment(input: unknown, actor: Actor, ifMatch?: number): Promise<(Committed & { created: boolean; segment: Stored<Segment> }) | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const parsed = parseSegment(input);
    if (!parsed.ok) return invalid(parsed.errors);
    const segment = parsed.value;
    const place = segments.segmentPlace(this.sql, segment.key);
    const current = this.currentDoc(meta);
    const before = current.segments.find((s) => s.key === segment.key);
    const storedVersion = place?.version ?? 0;
    if (ifMatch !== undefined && storedVersion !== ifMatch) return stale(`segment "${segment.key}"`, storedVersion, ifMatch);
    const next: EnvironmentDoc = {
      ...current,
      segments: before ? current.segments.map((s) => (s.key === segment.key ? segment : s)) : [...current.segments, segment],
    };
    // An unchanged key list keeps its stored set: editing a 100k-key segment's rules rewrites no keys.
    const sameKeys = before !== undefined && sameList(before.included, segment.included) && sameList(before.excluded, segment.excluded);
    const position = place ? place.position : segments.nextSegmentPosition(this.sql);
    const version = this.commit(actor, "segment.put", segment.key, next, (v) => {
      segments.writeSegment(this.sql, segment, position, v, sameKeys ? place!.keysVersion : undefined);
      return { before: before ? auditSegment(before) : null, after: auditSegment(segment) };
    });
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version, created: !place, segment: { ...segment, version } };
  }

  async deleteSegment(key: string, actor: Actor, ifMatch?: number): Promise<Committed | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const place = segments.segmentPlace(this.sql, key);
    if (!place) return notFound(`no segment "${key}"`);
    const storedVersion = place.version;
    if (ifMatch !== undefined && storedVersion !== ifMatch) return stale(`segment "${key}"`, storedVersion, ifMatch);
    const current = this.currentDoc(meta);
    const before = current.segments.find((s) => s.key === key)!;
    const next: EnvironmentDoc = { ...current, segments: current.segments.filter((s) => s.key !== key) };
    const version = this.commit(actor, "segment.delete", key, next, (v) => {
      segments.removeSegment(this.sql, key, v);
      return { before: auditSegment(before), after: null };
    });
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version };
  }

  // ---- whole document -------------------------------------------------------------------------

  async replaceAll(input: unknown, actor: Actor, operation: string): Promise<Committed | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const parsed = parseDoc(input);
    if (!parsed.ok) return invalid(parsed.errors);
    const next = parsed.value;
    const current = this.currentDoc(meta);
    const op = typeof operation === "string" && /^[a-z][a-z0-9._-]{0,63}$/i.test(operation) ? operation : "replace";
    const version = this.commit(actor, op, undefined, next, (v) => summarize(applyDoc(this.sql, current, next, v)));
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version };
  }

  async exportDoc(): Promise<{ doc: EnvironmentDoc; version: number } | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return { doc: this.currentDoc(meta), version: meta.version };
  }

  async history(options: { before?: number; limit?: number }): Promise<{ entries: HistoryEntry[]; next?: number } | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const num = (n: unknown) => (typeof n === "number" && Number.isFinite(n) ? n : undefined);
    return pageAudit(this.sql, num(options?.before), num(options?.limit));
  }

  async rollback(target: number, actor: Actor): Promise<Committed | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    if (!Number.isInteger(target) || target < 1) return invalid([{ path: "version", message: "must be a positive integer" }]);
    if (target > meta.version || auditTime(this.sql, target) === undefined) return notFound(`version ${target} is not in this environment's history`);
    const { doc: next, keySets } = docAt(this.sql, target);
    const current = this.currentDoc(meta);
    const version = this.commit(actor, "rollback", undefined, next, (v) => ({
      to: target,
      ...(summarize(applyDoc(this.sql, current, next, v, keySets)) as object),
    }));
    if (typeof version !== "number") return version;
    await this.afterCommit();
    return { version };
  }

  async explain(flagKey: string, context: EvaluationContext): Promise<EvaluationResult | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const compiled = this.currentCompiled(meta);
    if ("error" in compiled) return compiled;
    if (!compiled.get(flagKey)) return notFound(`no flag "${flagKey}"`);
    const ctx = context && typeof context === "object" && !Array.isArray(context) ? context : {};
    return compiled.evaluate(flagKey, ctx, { explain: true });
  }

  // ---- SDK keys -------------------------------------------------------------------------------

  async mintKey(kind: KeyKind, actor: Actor): Promise<{ id: string; kind: KeyKind; key: string } | StoreError> {
    if (kind !== "client" && kind !== "server") return invalid([{ path: "kind", message: 'must be "client" or "server"' }]);
    const before = this.live();
    if ("error" in before) return before;
    const key = randomSecret(kind === "client" ? "efc_" : "efs_");
    const hash = await sha256Hex(key);
    // Re-checked after the await: the environment may have been destroyed meanwhile.
    const meta = this.live();
    if ("error" in meta) return meta;
    const id = randomId("key_");
    keys.insertKey(this.sql, { id, kind, hash, prefix: displayPrefix(key), created: new Date().toISOString(), actor });
    await this.afterCommit();
    return { id, kind, key };
  }

  async listKeys(): Promise<KeyInfo[] | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    return keys.listKeys(this.sql).map(({ hash: _h, kvPending: _p, ...info }) => info);
  }

  /**
   * Rewrites the key's KV record with `revoked: true` before answering (KV failure: alarm retry).
   * Revocation bound at the edge: KV propagation (up to 60 s for a key read with the default
   * cacheTtl) plus however long the edge trusts a cached key record in isolate memory.
   */
  async revokeKey(id: string, actor: Actor): Promise<{ revoked: boolean } | StoreError> {
    const meta = this.live();
    if ("error" in meta) return meta;
    const key = keys.getKey(this.sql, id);
    if (!key) return notFound(`no key "${id}"`);
    if (key.revokedAt !== undefined) return { revoked: false };
    keys.revokeKeys(this.sql, new Date().toISOString(), actor, id);
    await this.afterCommit();
    return { revoked: true };
  }

  // ---- publishing -----------------------------------------------------------------------------

  async republish(): Promise<{ version: number }> {
    const meta = readMeta(this.sql);
    if (!meta) return { version: 0 };
    this.ctx.storage.transactionSync(() => {
      // -1: "unknown", so a deleted environment's pointer is deleted again too.
      setPublished(this.sql, "published_version", meta.deleted ? -1 : 0);
      setPublished(this.sql, "snapshot_version", 0);
      keys.markAllKeysPending(this.sql);
    });
    await this.afterCommit();
    return { version: meta.deleted ? 0 : meta.version };
  }

  /** Publishing first (retries, backstop), then deleting superseded snapshots, then the next alarm. */
  override async alarm(): Promise<void> {
    this.publishAlarmAt = undefined;
    await this.publisher.flush(); // on failure it has set publishAlarmAt to the retry time
    const name = readMeta(this.sql)?.name;
    if (name !== undefined) await this.snapshots.collect(name);
    // Set explicitly: a run that sets no new alarm leaves none behind.
    this.armAlarm();
  }

  // ---- change stream --------------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== SUBSCRIBE_PATH) return Response.json({ error: { code: "NOT_FOUND", message: "unknown path" } }, { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "UPGRADE_REQUIRED", message: "expected a WebSocket upgrade" } }, { status: 426 });
    }
    const meta = readMeta(this.sql);
    if (!meta || meta.deleted) return Response.json({ error: { code: "NOT_FOUND", message: "unknown environment" } }, { status: 404 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    // Tell the new subscriber where KV stands now; later changes arrive as they are published.
    if (meta.publishedVersion > 0) server.send(JSON.stringify({ type: "version", version: meta.publishedVersion } satisfies VersionMessage));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
    else if (typeof message === "string" && message.includes('"ping"')) ws.send('{"type":"pong"}');
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try { ws.close(code, reason); } catch { /* the runtime already answered the close */ }
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The meta row of a created, not deleted environment, or not_found. */
  private live(): Meta | StoreError {
    const meta = readMeta(this.sql);
    return meta && !meta.deleted ? meta : notFound("unknown environment");
  }

  private currentDoc(meta: Meta): EnvironmentDoc {
    if (this.cache?.version !== meta.version) this.cache = { version: meta.version, doc: loadDoc(this.sql, meta.extra) };
    return this.cache.doc;
  }

  private currentCompiled(meta: Meta): CompiledEnvironment | StoreError {
    if (this.compiled?.version === meta.version) return this.compiled.env;
    const result = compileDoc(this.currentDoc(meta));
    if (!result.ok) return invalid(result.errors);
    this.compiled = { version: meta.version, env: result.value };
    return result.value;
  }

  /**
   * Validates `next` (the whole resulting document) and, when it compiles, runs `write` with the
   * new version in one transaction together with the version bump and the audit row. Returns the
   * new version, or the refusal with nothing changed. Synchronous: no other call can interleave.
   */
  private commit(actor: Actor, operation: string, target: string | undefined, next: EnvironmentDoc, write: (version: number) => unknown): number | StoreError {
    const compiled = compileDoc(next);
    if (!compiled.ok) return invalid(compiled.errors);
    const json = JSON.stringify(next);
    if (json.length * 3 > MAX_SNAPSHOT_BYTES && new TextEncoder().encode(json).length > MAX_SNAPSHOT_BYTES) {
      return invalid([{ path: "", message: `the environment would exceed the ${MAX_SNAPSHOT_BYTES}-byte snapshot limit` }]);
    }
    const time = new Date().toISOString();
    let version = 0;
    try {
      this.ctx.storage.transactionSync(() => {
        version = bumpVersion(this.sql);
        const diff = write(version);
        appendAudit(this.sql, { version, time, actor: String(actor), operation, ...(target === undefined ? {} : { target }), diff });
      });
    } catch (err) {
      const refused = storageLimit(err);
      if (refused) return refused;
      throw err;
    }
    this.cache = { version, doc: next, json };
    this.compiled = { version, env: compiled.value };
    return version;
  }

  /** Publishes what was just committed; answers once KV has it, or after RPC_PUBLISH_WAIT_MS (the alarm finishes). */
  private async afterCommit(): Promise<void> {
    this.publishAlarmAt = Date.now() + BACKSTOP_ALARM_MS;
    await this.armAlarm();
    await Promise.race([this.publisher.flush(), sleep(RPC_PUBLISH_WAIT_MS)]);
  }

  private publishSource(): PublishSource {
    return {
      state: () => {
        const meta = readMeta(this.sql);
        if (!meta) return undefined;
        return {
          name: meta.name,
          version: meta.version,
          deleted: meta.deleted,
          publishedAt: auditTime(this.sql, meta.version) ?? meta.created,
          docJson: () => {
            const doc = this.currentDoc(meta);
            return (this.cache!.json ??= JSON.stringify(doc));
          },
        };
      },
      published: () => {
        const meta = readMeta(this.sql);
        return { pointer: meta?.publishedVersion ?? 0, snapshot: meta?.snapshotVersion ?? 0 };
      },
      writingSnapshot: (v) => recordSnapshot(this.sql, v),
      markSnapshot: (v) => setPublished(this.sql, "snapshot_version", v),
      markPointer: (v) => {
        this.ctx.storage.transactionSync(() => {
          setPublished(this.sql, "published_version", v);
          supersedeBelow(this.sql, v, Date.now());
        });
        void this.armAlarm();
      },
      pendingKeys: () => keys.pendingKeys(this.sql),
      markKey: (id, revoked) => keys.markKeyPublished(this.sql, id, revoked),
      onPublished: (version) => this.broadcast({ type: "version", version }),
      scheduleRetry: (delayMs) => {
        this.publishAlarmAt = Date.now() + delayMs;
        void this.armAlarm();
      },
    };
  }

  /**
   * One alarm serves publishing and snapshot deletion: it is set to the earlier of the two needs,
   * so neither overwrites the other. No await before setAlarm, so callers that do not wait still
   * have the alarm ordered before their next storage operation.
   */
  private armAlarm(): Promise<void> {
    const at = Math.min(this.publishAlarmAt ?? Infinity, this.snapshots.nextAt() ?? Infinity);
    return at === Infinity ? Promise.resolve() : this.ctx.storage.setAlarm(at);
  }

  private broadcast(message: VersionMessage): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(text); } catch { /* closing socket: it will be cleaned up */ }
    }
  }
}

