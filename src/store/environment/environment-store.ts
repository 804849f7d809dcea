/**
 * One environment's single writer and source of truth (a SQLite Durable Object, one per
 * environment via `ENV_STORE.idFromName(env)`). SQL lives in the *-repo modules, validation in
 * validate.ts, KV publishing in publish.ts, and the releases, insights, webhooks and alerts halves
 * in classes of their own; the document writes, SDK keys and the change stream are still here.
 *
 * Every document change goes through `mutate`: its whole read-validate-write (zod,
 * `compileEnvironment` of the resulting document, If-Match, the writes, the version bump and the
 * audit row) runs synchronously inside one `transactionSync` before the first `await`, so
 * concurrent calls cannot interleave: of 100 conflicting If-Match writes exactly one wins, and
 * versions stay gapless. Publishing follows (`Publishing.afterCommit`).
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import { checkTouchedFlags, compileEnvironment } from "../../core/compile";
import { mergeFlagdImport, type FlagdImport } from "../../core/flagd/import";
import type { CompiledEnvironment, EvaluationContext, EvaluationResult } from "../../core/engine";
import type { EnvironmentDoc, Flag, Segment } from "../../core/model";
import { ENVIRONMENT_PATTERN, type KeyKind } from "../../core/wire/kv-layout";
import type { StoreBindings as Env } from "../bindings";
import {
  SUBSCRIBE_PATH,
  type Actor, type Committed, type EnvironmentInfo, type PromotedItems, type EnvironmentStoreApi, type HistoryEntry, type KeyInfo, type Stored,
  type SegmentSummary, type StoreFailure, type StoreResult, type VersionMessage,
} from "../../core/wire/store-rpc";
import { appendAudit, auditTime, generationStart } from "./audit-repo";
import { approvalsRequired, holdDocChange } from "../releases/change-requests";
import { applyDoc, auditSegment, docAt, loadDoc, overlay, sameList, summarize, unstore } from "./document-rows";
import * as flags from "./flags-repo";
import { displayPrefix, randomId, randomSecret, sha256Hex } from "../secrets";
import * as keys from "./keys-repo";
import { bumpVersion, insertMeta, readMeta, setDeleted, setPublished, type Meta } from "./meta-repo";
import { ChunkLedger } from "../publishing/chunk-ledger";
import { DEFAULT_POINTER_INTERVAL_MS, Publishing, encodeVersion, type Encoded, type PublishSource } from "../publishing/publish";
import { appendEvent, pageHistory } from "./events-repo";
import { conflict, done, invalid, noEnvironment, notFound, stale } from "../results";
import type { ChangeRequestInfo, ChangeRequestPage, PlanInfo, Policy, ReviewPrincipals, ScheduleInfo } from "../../core/wire/releases-rpc";
import { Releases, type Gate } from "../releases/releases";
import type { PlanStep } from "../../core/rollout-plan";
import { appendRevision, clearRevisions } from "./revisions-repo";
import { migrateStore } from "../schema";
import * as segments from "./segments-repo";
import { SnapshotCollector } from "../publishing/snapshot-gc";
import { recordSnapshot, supersedeBelow } from "../publishing/snapshots-repo";
import type { Sql } from "../sql";
import type { AlertsOverview, AlertsStoreApi, DeadLetter, EdgeMetrics, FlagLifecycle, InsightsStoreApi, RecordOutcome } from "../../core/wire/insights-rpc";
import { StoreAlerts } from "../alerts/alerts";
import { clearAlerts } from "../alerts/alerts-repo";
import type { AlertSettings } from "../../core/alerts";
import { StoreInsights } from "../insights/insights";
import type { LifecycleSettings } from "../../core/lifecycle";
import type { UsageMessage } from "../../core/wire/queue-messages";
import { clearUsage } from "../insights/usage-repo";
import type { FlagUsage } from "../../core/wire/insights-rpc";
import { clearLifecycleSettings } from "../insights/lifecycle-repo";
import { optionalNumber, parseDoc, parseFlag, parseSegment } from "./validate";
import { StoreWebhooks } from "../webhooks/webhooks";
import { clearWebhooks } from "../webhooks/webhooks-repo";
import type { WebhookInfo } from "../../core/wire/store-rpc";

/**
 * One document change, decided synchronously from the current state by a `mutate` plan:
 * the resulting document (validated whole before anything is written), the rows to write at the
 * new version (answering the audit diff), and the RPC answer.
 */
export interface Change<T> {
  operation: string;
  target?: string;
  next: EnvironmentDoc;
  /**
   * The flags a change to flags alone puts, patches or deletes: only they and the flags that
   * name them as prerequisites are compiled to check it (core/compile.ts checkTouchedFlags).
   * Absent: the whole resulting document is compiled (imports, segments, rollbacks).
   */
  touchedFlags?: readonly string[];
  write(version: number): unknown;
  answer(version: number): T;
}

/** `items` with the one keyed `key` replaced by `item`, or `item` appended. */
function upsert<T extends { key: string }>(items: readonly T[], item: T, exists: boolean): T[] {
  return exists ? items.map((i) => (i.key === item.key ? item : i)) : [...items, item];
}

function pointerInterval(env: Env): number {
  const raw = Number(env.KV_POINTER_MIN_INTERVAL_MS);
  return Number.isFinite(raw) && raw >= 0 ? raw : DEFAULT_POINTER_INTERVAL_MS;
}

/** SQLite refuses rows over 2 MB: a user error (too large a definition), not a crash. */
function storageLimit(err: unknown): StoreFailure | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/too ?big|toobig|too large|string or blob/i.test(message)) return invalid([{ path: "", message: `storage refused the change: ${message}` }]);
  return undefined;
}

export class EnvironmentStore extends DurableObject<Env> implements EnvironmentStoreApi, InsightsStoreApi, AlertsStoreApi {
  private readonly sql: Sql;
  /** Public for tests (`runInDurableObject`): `publishing.publisher.kv` can be swapped for a failing wrapper. Fields are not RPC-callable. */
  readonly publishing: Publishing;
  /** Public for tests: its `graceMs` and `retryMs` can be shortened. */
  readonly snapshots: SnapshotCollector;
  /** Schedules, release plans, the approval policy and change requests (releases.ts). */
  private readonly releases: Releases;
  /** Public for tests: usage, metrics and lifecycle (insights.ts); its `now` can be moved. */
  readonly insights: StoreInsights;
  /** Public for tests: subscriptions and the outbox of change events (webhooks.ts). */
  readonly webhooks: StoreWebhooks;
  /** Public for tests: alert evaluation (alerts.ts); it reads the insights clock. */
  readonly alerts: StoreAlerts;
  /** The current document, kept per version: validation of the next change starts from it. */
  private cache: { version: number; doc: EnvironmentDoc; encoded?: Encoded } | undefined;
  /** Which snapshot chunks KV holds (publishing/chunk-ledger.ts). */
  private readonly chunks: ChunkLedger;
  /** The compiled current document (explain), kept per version. */
  private compiled: { version: number; env: CompiledEnvironment } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql as unknown as Sql;
    this.chunks = new ChunkLedger(this.sql);
    this.publishing = new Publishing(env.FLAGS_KV, this.publishSource(), pointerInterval(env), {
      setAlarm: (at) => ctx.storage.setAlarm(at),
      // The other users of the one alarm: snapshot deletion, schedules and plan steps, the webhook outbox, alerts.
      otherDueAt: () => earliest(earliest(this.snapshots.nextAt(), this.releases.nextAt()), earliest(this.webhooks.dueAt(), this.alerts.dueAt())),
    });
    this.snapshots = new SnapshotCollector(this.sql, () => this.publishing.publisher.kv, {
      ledger: this.chunks,
      inLane: (work) => this.publishing.publisher.inLane(work),
    });
    this.releases = new Releases({
      sql: this.sql,
      live: () => this.live(),
      mutate: (actor, plan, gate) => this.mutate(actor, plan, gate),
      check: (plan) => this.check(plan),
      transaction: (fn) => ctx.storage.transactionSync(fn),
      armAlarm: () => this.publishing.armAlarm(),
    });
    this.insights = new StoreInsights({
      sql: this.sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      live: () => { const live = this.live(); return live.ok ? live.value : undefined; },
      flags: () => flags.listFlags(this.sql),
      flag: (key) => flags.getFlag(this.sql, key),
    });
    this.webhooks = new StoreWebhooks({
      sql: this.sql,
      liveName: () => { const live = this.live(); return live.ok ? live.value.name : undefined; },
      queue: () => env.INSIGHTS_QUEUE,
    });
    this.alerts = new StoreAlerts({
      sql: this.sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      live: () => { const live = this.live(); return live.ok ? live.value : undefined; },
      now: () => this.insights.now(),
      minutes: (count, now) => this.insights.minutes(count, now),
      lastDataAt: () => this.insights.lastDataAt(),
      publishLagSeconds: (meta, now) => this.insights.publishLagSeconds(meta, now),
      staleOutlook: () => this.insights.staleOutlook(),
      recordEvent: (event) => this.webhooks.record(event),
      pausePlans: (reason, actor) => this.releases.pauseRunningPlans(reason, actor),
    });
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrateStore(this.sql));
      // A stored alarm survives restarts; this re-arms one for due schedules, plan steps and alert evaluations if it was lost.
      if (earliest(this.releases.nextAt(), this.alerts.dueAt()) !== undefined && (await ctx.storage.getAlarm()) === null) await this.publishing.armAlarm();
    });
    // Keepalive pings are answered without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // ---- environment ----------------------------------------------------------------------------

  async create(name: string, actor: Actor): Promise<StoreResult<{ created: boolean; version: number }>> {
    if (typeof name !== "string" || !ENVIRONMENT_PATTERN.test(name)) {
      return invalid([{ path: "name", message: "must match " + ENVIRONMENT_PATTERN.source }]);
    }
    const meta = readMeta(this.sql);
    if (meta && meta.name !== name) return conflict(`this store belongs to environment "${meta.name}", not "${name}"`);
    if (meta && !meta.deleted) return done({ created: false, version: meta.version });
    const time = new Date().toISOString();
    let version = 0;
    this.ctx.storage.transactionSync(() => {
      if (meta) setDeleted(this.sql, false, time);
      else insertMeta(this.sql, name, time);
      version = bumpVersion(this.sql);
      appendRevision(this.sql, "doc", "", version, 0, "{}", null);
      appendAudit(this.sql, { version, time, actor: String(actor), operation: "environment.create", diff: {} });
    });
    this.cache = { version, doc: { flags: [], segments: [] } };
    this.compiled = undefined;
    await this.publishing.afterCommit();
    return done({ created: true, version });
  }

  async info(): Promise<StoreResult<EnvironmentInfo>> {
    return this.read((meta) => done({
      name: meta.name, version: meta.version, flags: flags.countFlags(this.sql), segments: segments.countSegments(this.sql),
    }));
  }

  /**
   * Refused (conflict) while the policy requires approvals: a delete would drop the policy with
   * everything else, so one token could otherwise undo what N reviewers guard. Lowering the policy
   * is itself a change request. The audit log and events stay (history reads them after a delete,
   * and a re-created environment continues them).
   */
  async destroy(actor: Actor): Promise<StoreResult<{ deleted: true }>> {
    const live = this.live();
    if (!live.ok) return live;
    const required = approvalsRequired(this.sql);
    if (required > 0) {
      return conflict(`environment "${live.value.name}" needs ${required} approval${required === 1 ? "" : "s"} per change: deleting it is refused until its policy is lowered to 0 approvals through an approved change request`);
    }
    const time = new Date().toISOString();
    // The version counter survives (meta row) so a re-created environment never reuses a version.
    this.ctx.storage.transactionSync(() => {
      appendEvent(this.sql, { version: live.value.version, time, actor: String(actor), operation: "environment.delete", diff: { flags: flags.countFlags(this.sql), segments: segments.countSegments(this.sql) } });
      flags.clearFlags(this.sql);
      segments.clearSegments(this.sql);
      clearRevisions(this.sql);
      keys.revokeKeys(this.sql, time, String(actor));
      this.releases.clear();
      clearUsage(this.sql);
      clearLifecycleSettings(this.sql);
      clearWebhooks(this.sql);
      clearAlerts(this.sql);
      setDeleted(this.sql, true);
    });
    this.cache = undefined;
    this.compiled = undefined;
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.close(1000, "environment deleted"); } catch { /* already closed */ }
    }
    await this.publishing.afterCommit();
    return done({ deleted: true });
  }

  // ---- flags ----------------------------------------------------------------------------------

  async listFlags(): Promise<StoreResult<Stored<Flag>[]>> {
    return this.read(() => done(flags.listFlags(this.sql)));
  }

  async getFlag(key: string): Promise<StoreResult<Stored<Flag>>> {
    return this.read(() => found(flags.getFlag(this.sql, key), `no flag "${key}"`));
  }

  async putFlag(input: unknown, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed & { created: boolean; flag: Stored<Flag> }>> {
    return this.mutate(actor, (current) => {
      const parsed = parseFlag(input);
      if (!parsed.ok) return invalid(parsed.errors);
      const flag = parsed.value;
      const existing = flags.getFlag(this.sql, flag.key);
      const refused = stale(`flag "${flag.key}"`, existing?.version ?? 0, ifMatch);
      if (refused) return refused;
      const position = existing ? flags.flagPosition(this.sql, flag.key)! : flags.nextFlagPosition(this.sql);
      return done({
        operation: "flag.put", target: flag.key, touchedFlags: [flag.key],
        next: { ...current, flags: upsert(current.flags, flag, existing !== undefined) },
        write: (v) => {
          flags.writeFlag(this.sql, flag, position, v);
          return { before: existing ? unstore(existing) : null, after: flag };
        },
        answer: (version) => ({ version, created: !existing, flag: { ...flag, version } }),
      });
    });
  }

  async deleteFlag(key: string, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current) => {
      const existing = flags.getFlag(this.sql, key);
      if (!existing) return notFound(`no flag "${key}"`);
      const refused = stale(`flag "${key}"`, existing.version, ifMatch);
      if (refused) return refused;
      return done({
        operation: "flag.delete", target: key, touchedFlags: [key],
        next: { ...current, flags: current.flags.filter((f) => f.key !== key) },
        write: (v) => {
          flags.removeFlag(this.sql, key, v);
          return { before: unstore(existing), after: null };
        },
        answer: (version) => ({ version }),
      });
    });
  }

  async setFlagEnabled(key: string, enabled: boolean, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed & { flag: Stored<Flag> }>> {
    return this.mutate(actor, (current) => {
      if (typeof enabled !== "boolean") return invalid([{ path: "enabled", message: "must be a boolean" }]);
      const existing = flags.getFlag(this.sql, key);
      if (!existing) return notFound(`no flag "${key}"`);
      const refused = stale(`flag "${key}"`, existing.version, ifMatch);
      if (refused) return refused;
      const before = unstore(existing);
      const flag: Flag = { ...before, enabled };
      const position = flags.flagPosition(this.sql, key)!;
      return done({
        operation: "flag.toggle", target: key, touchedFlags: [key],
        next: { ...current, flags: upsert(current.flags, flag, true) },
        write: (v) => {
          flags.writeFlag(this.sql, flag, position, v);
          return { before, after: flag };
        },
        answer: (version) => ({ version, flag: { ...flag, version } }),
      });
    });
  }

  // ---- segments -------------------------------------------------------------------------------

  async listSegments(): Promise<StoreResult<Stored<Segment>[]>> {
    return this.read(() => done(segments.listSegments(this.sql)));
  }

  async listSegmentSummaries(): Promise<StoreResult<SegmentSummary[]>> {
    return this.read(() => done(segments.listSegmentSummaries(this.sql)));
  }

  async getSegment(key: string): Promise<StoreResult<Stored<Segment>>> {
    return this.read(() => found(segments.getSegment(this.sql, key), `no segment "${key}"`));
  }

  async putSegment(input: unknown, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed & { created: boolean; segment: Stored<Segment> }>> {
    return this.mutate(actor, (current) => {
      const parsed = parseSegment(input);
      if (!parsed.ok) return invalid(parsed.errors);
      const segment = parsed.value;
      const place = segments.segmentPlace(this.sql, segment.key);
      const refused = stale(`segment "${segment.key}"`, place?.version ?? 0, ifMatch);
      if (refused) return refused;
      const before = current.segments.find((s) => s.key === segment.key);
      // An unchanged key list keeps its stored set: editing a 100k-key segment's rules rewrites no keys.
      const sameKeys = before !== undefined && sameList(before.included, segment.included) && sameList(before.excluded, segment.excluded);
      const position = place ? place.position : segments.nextSegmentPosition(this.sql);
      return done({
        operation: "segment.put", target: segment.key,
        next: { ...current, segments: upsert(current.segments, segment, before !== undefined) },
        write: (v) => {
          segments.writeSegment(this.sql, segment, position, v, sameKeys ? place!.keysVersion : undefined);
          return { before: before ? auditSegment(before) : null, after: auditSegment(segment) };
        },
        answer: (version) => ({ version, created: !place, segment: { ...segment, version } }),
      });
    });
  }

  async deleteSegment(key: string, actor: Actor, ifMatch?: number): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current) => {
      const place = segments.segmentPlace(this.sql, key);
      if (!place) return notFound(`no segment "${key}"`);
      const refused = stale(`segment "${key}"`, place.version, ifMatch);
      if (refused) return refused;
      const before = current.segments.find((s) => s.key === key)!;
      return done({
        operation: "segment.delete", target: key,
        next: { ...current, segments: current.segments.filter((s) => s.key !== key) },
        write: (v) => {
          segments.removeSegment(this.sql, key, v);
          return { before: auditSegment(before), after: null };
        },
        answer: (version) => ({ version }),
      });
    });
  }

  // ---- whole document -------------------------------------------------------------------------

  async replaceAll(input: unknown, actor: Actor, operation: string): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current) => this.replacement(current, input, operation));
  }

  /** flagd import: merged with the current document in the same transaction that read it. */
  async importFlagd(imported: FlagdImport, actor: Actor): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current) => this.replacement(current, mergeFlagdImport(imported, current), "flagd.import"));
  }

  /**
   * Promote into this environment: the promoted flags and segments replace this environment's
   * items of the same key in place, or join them at the end; the rest stay. Merged with the
   * document the write's own transaction reads, so a write that lands while the promote is on its
   * way is kept, never reverted; the result is validated whole, as a replaceAll of it would be.
   */
  async mergePromoted(items: PromotedItems, actor: Actor): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current) => {
      const flagsIn = keyedList(items?.flags, "flags");
      if (!flagsIn.ok) return flagsIn;
      const segmentsIn = keyedList(items?.segments, "segments");
      if (!segmentsIn.ok) return segmentsIn;
      const next = { ...current, flags: overlay(current.flags, flagsIn.value), segments: overlay(current.segments, segmentsIn.value) };
      return this.replacement(current, next, "promote");
    });
  }

  private replacement(current: EnvironmentDoc, input: unknown, operation: string): StoreResult<Change<Committed>> {
    const parsed = parseDoc(input);
    if (!parsed.ok) return invalid(parsed.errors);
    const next = parsed.value;
    return done({
      operation: typeof operation === "string" && /^[a-z][a-z0-9._-]{0,63}$/i.test(operation) ? operation : "replace",
      next,
      write: (v) => summarize(applyDoc(this.sql, current, next, v)),
      answer: (version) => ({ version }),
    });
  }

  async exportDoc(): Promise<StoreResult<{ doc: EnvironmentDoc; version: number }>> {
    return this.read((meta) => done({ doc: this.currentDoc(meta), version: meta.version }));
  }

  async history(options: { before?: number; limit?: number }): Promise<StoreResult<{ entries: HistoryEntry[]; next?: number }>> {
    // Readable after a delete too: only an environment that never existed has none.
    if (!readMeta(this.sql)) return noEnvironment;
    return done(pageHistory(this.sql, optionalNumber(options?.before), optionalNumber(options?.limit)));
  }

  async rollback(target: number, actor: Actor): Promise<StoreResult<Committed>> {
    return this.mutate(actor, (current, meta) => {
      if (!Number.isInteger(target) || target < 1) return invalid([{ path: "version", message: "must be a positive integer" }]);
      if (target > meta.version || auditTime(this.sql, target) === undefined) return notFound(`version ${target} is not in this environment's history`);
      const since = generationStart(this.sql);
      if (target < since) return conflict(`version ${target} is from before the environment was deleted and re-created at version ${since}: its definitions are gone`);
      const { doc: next, keySets } = docAt(this.sql, target);
      return done({
        operation: "rollback",
        next,
        write: (v) => ({ to: target, ...(summarize(applyDoc(this.sql, current, next, v, keySets)) as object) }),
        answer: (version) => ({ version }),
      });
    });
  }

  async explain(flagKey: string, context: EvaluationContext, draft?: Flag): Promise<StoreResult<EvaluationResult>> {
    return this.read((meta) => {
      const compiled = draft ? this.draftCompiled(meta, draft) : this.currentCompiled(meta);
      if (!compiled.ok) return compiled;
      if (!compiled.value.get(flagKey)) return notFound(`no flag "${flagKey}"`);
      const ctx = context && typeof context === "object" && !Array.isArray(context) ? context : {};
      return done(compiled.value.evaluate(flagKey, ctx, { explain: true }));
    });
  }

  // ---- releases (releases.ts) -----------------------------------------------------------------

  async createSchedule(input: { at: string; flag: string; patch: unknown }, actor: Actor): Promise<StoreResult<ScheduleInfo>> {
    return this.releases.createSchedule(input, actor);
  }

  async listSchedules(): Promise<StoreResult<ScheduleInfo[]>> {
    return this.releases.listSchedules();
  }

  async cancelSchedule(id: string, actor: Actor): Promise<StoreResult<ScheduleInfo>> {
    return this.releases.cancelSchedule(id, actor);
  }

  async putPlan(flag: string, input: { variant: string; steps: PlanStep[] }, actor: Actor): Promise<StoreResult<PlanInfo>> {
    return this.releases.putPlan(flag, input, actor);
  }

  async getPlan(flag: string): Promise<StoreResult<PlanInfo>> {
    return this.releases.getPlan(flag);
  }

  async controlPlan(flag: string, action: "pause" | "resume" | "abort", actor: Actor): Promise<StoreResult<PlanInfo>> {
    return this.releases.controlPlan(flag, action, actor);
  }

  async pauseRunningPlans(reason: string, actor: Actor): Promise<StoreResult<{ paused: string[] }>> {
    return this.releases.pauseRunningPlans(reason, actor);
  }

  async getPolicy(): Promise<StoreResult<Policy>> {
    return this.releases.getPolicy();
  }

  async putPolicy(policy: Policy, actor: Actor): Promise<StoreResult<Policy>> {
    return this.releases.putPolicy(policy, actor);
  }

  async listChangeRequests(options?: ChangeRequestPage): Promise<StoreResult<{ changeRequests: ChangeRequestInfo[]; next?: number }>> {
    return this.releases.listChangeRequests(options);
  }

  async getChangeRequest(id: string): Promise<StoreResult<ChangeRequestInfo>> {
    return this.releases.getChangeRequest(id);
  }

  async reviewChangeRequest(id: string, action: "approve" | "reject" | "withdraw", actor: Actor, principals?: ReviewPrincipals): Promise<StoreResult<ChangeRequestInfo>> {
    return this.releases.reviewChangeRequest(id, action, actor, principals);
  }

  // ---- SDK keys -------------------------------------------------------------------------------

  async mintKey(kind: KeyKind, actor: Actor): Promise<StoreResult<{ id: string; kind: KeyKind; key: string }>> {
    if (kind !== "client" && kind !== "server") return invalid([{ path: "kind", message: 'must be "client" or "server"' }]);
    const before = this.live();
    if (!before.ok) return before;
    const key = randomSecret(kind === "client" ? "efc_" : "efs_");
    const hash = await sha256Hex(key);
    // Re-checked after the await: the environment may have been destroyed meanwhile.
    const after = this.live();
    if (!after.ok) return after;
    const id = randomId("key_");
    keys.insertKey(this.sql, { id, kind, hash, prefix: displayPrefix(key), created: new Date().toISOString(), actor: String(actor) });
    // Answered once the record is in KV: a key shown before the edge can find it answers 401.
    await this.publishing.afterKeyChange();
    return done({ id, kind, key });
  }

  async listKeys(): Promise<StoreResult<KeyInfo[]>> {
    return this.read(() => done(keys.listKeys(this.sql).map(({ hash: _h, kvPending: _p, ...info }) => info)));
  }

  /**
   * Rewrites the key's KV record with `revoked: true` before answering (KV failure: alarm retry).
   * Revocation bound at the edge: KV propagation (up to 60 s for a key read with the default
   * cacheTtl) plus however long the edge trusts a cached key record in isolate memory.
   */
  async revokeKey(id: string, actor: Actor): Promise<StoreResult<{ revoked: boolean }>> {
    const live = this.live();
    if (!live.ok) return live;
    const key = keys.getKey(this.sql, id);
    if (!key) return notFound(`no key "${id}"`);
    if (key.revokedAt !== undefined) return done({ revoked: false });
    keys.revokeKeys(this.sql, new Date().toISOString(), String(actor), id);
    await this.publishing.afterKeyChange();
    return done({ revoked: true });
  }

  // ---- insights (usage from the queue consumer, metrics, lifecycle; see insights.ts) -----------

  async recordUsage(messages: UsageMessage[]): Promise<RecordOutcome> {
    const outcome = this.insights.recordUsage(messages);
    // Traffic: the alerts look at it within one cadence.
    if (outcome.applied > 0 && this.alerts.soon()) await this.publishing.armAlarm();
    return outcome;
  }

  async recordDeadLetters(letters: DeadLetter[]): Promise<RecordOutcome> {
    return this.insights.recordDeadLetters(letters);
  }

  async flagUsage(flag: string, hours: number): Promise<StoreResult<FlagUsage>> {
    return this.insights.flagUsage(flag, hours);
  }

  async edgeMetrics(minutes: number): Promise<StoreResult<EdgeMetrics>> {
    return this.insights.edgeMetrics(minutes);
  }

  async flagLifecycles(): Promise<StoreResult<Record<string, FlagLifecycle>>> {
    return this.insights.flagLifecycles();
  }

  async flagLifecycle(key: string): Promise<StoreResult<FlagLifecycle>> {
    return this.insights.flagLifecycle(key);
  }

  async lifecycleSettings(): Promise<StoreResult<LifecycleSettings>> {
    return this.insights.lifecycleSettings();
  }

  async setLifecycleSettings(patch: unknown): Promise<StoreResult<LifecycleSettings>> {
    const set = this.insights.setLifecycleSettings(patch);
    // New lifetimes or windows can make flags stale (or not) at once.
    if (set.ok && this.alerts.soon()) await this.publishing.armAlarm();
    return set;
  }

  // ---- alerts (alerts.ts: evaluated by the alarm, announced through the webhook outbox) --------

  async listAlerts(): Promise<StoreResult<AlertsOverview>> {
    return this.alerts.list();
  }

  async alertSettings(): Promise<StoreResult<AlertSettings>> {
    return this.alerts.settings();
  }

  async setAlertSettings(patch: unknown): Promise<StoreResult<AlertSettings>> {
    const set = this.alerts.setSettings(patch);
    if (set.ok) await this.publishing.armAlarm();
    return set;
  }

  // ---- webhooks (webhooks.ts; deliveries go out through the queue, src/queue/webhook-delivery.ts) --

  async createWebhook(input: unknown, actor: Actor): Promise<StoreResult<WebhookInfo & { secret: string }>> {
    return this.webhooks.create(input, String(actor));
  }

  async listWebhooks(): Promise<StoreResult<WebhookInfo[]>> {
    return this.webhooks.list();
  }

  async deleteWebhook(id: string): Promise<StoreResult<{ deleted: true }>> {
    return this.webhooks.remove(id);
  }

  async webhookTarget(id: string): Promise<StoreResult<{ url: string; secret: string }>> {
    return this.webhooks.target(id);
  }

  // ---- publishing -----------------------------------------------------------------------------

  async republish(): Promise<StoreResult<{ version: number }>> {
    const live = this.live();
    if (!live.ok) return live;
    this.ctx.storage.transactionSync(() => {
      setPublished(this.sql, "published_version", 0);
      setPublished(this.sql, "snapshot_version", 0);
      this.chunks.unstoreAll();
      keys.markAllKeysPending(this.sql);
    });
    await this.publishing.afterCommit();
    return done({ version: live.value.version });
  }

  /** Publishing first (retries, backstop), then due schedules and plan steps, then alerts, then deleting superseded snapshots, then the next alarm. */
  override async alarm(): Promise<void> {
    await Promise.all([this.publishing.onAlarm(), this.webhooks.flush()]);
    await this.releases.runDue();
    // After publishing had its try, so a lag it just closed is not announced; the events go out at once.
    if (await this.alerts.runDue()) await this.webhooks.flush();
    const name = readMeta(this.sql)?.name;
    if (name !== undefined) {
      await this.snapshots.collect(name);
      await this.snapshots.collectChunks(name);
    }
    // Set explicitly: a run that sets no new alarm leaves none behind.
    await this.publishing.armAlarm();
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
    // Tell the new subscriber where KV stands now (a resync: every relay reconnects at once after a
    // deploy); later changes arrive as they are published.
    if (meta.publishedVersion > 0) server.send(JSON.stringify({ type: "version", version: meta.publishedVersion, resync: true } satisfies VersionMessage));
    return new Response(null, { status: 101, webSocket: client });
  }

  async streamSockets(): Promise<StoreResult<{ sockets: number }>> {
    return this.read(() => done({ sockets: this.ctx.getWebSockets().length }));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
    else if (typeof message === "string" && message.includes('"ping"')) ws.send('{"type":"pong"}');
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try { ws.close(code, reason); } catch { /* the runtime already answered the close */ }
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The meta row of a created, not deleted environment, or no_environment. */
  private live(): StoreResult<Meta> {
    const meta = readMeta(this.sql);
    return meta && !meta.deleted ? done(meta) : noEnvironment;
  }

  /** A read of a live environment (synchronous: it sees one consistent version). */
  private read<T>(answer: (meta: Meta) => StoreResult<T>): StoreResult<T> {
    const live = this.live();
    return live.ok ? answer(live.value) : live;
  }

  /**
   * The one path of every document change: `plan` reads and checks (If-Match, zod) against the
   * current document, then `commit` validates and writes the result, then publishing follows.
   * Everything before the `await` is synchronous, so no other call can interleave with it.
   * `gate` "policy": an environment that requires approvals keeps the checked change as a pending
   * change request instead (answered `approval_required`, nothing changed); "approved" is for
   * changes that already passed it (an approved request, a schedule or plan step).
   */
  private async mutate<T>(actor: Actor, plan: (current: EnvironmentDoc, meta: Meta) => StoreResult<Change<T>>, gate: Gate = "policy"): Promise<StoreResult<T>> {
    const live = this.live();
    if (!live.ok) return live;
    const current = this.currentDoc(live.value);
    const change = plan(current, live.value);
    if (!change.ok) return change;
    const required = gate === "policy" ? approvalsRequired(this.sql) : 0;
    if (required > 0) {
      // Only a change that would commit becomes a request: the whole document is validated first.
      const valid = validDoc(change.value.next, this.cache?.encoded, change.value.touchedFlags);
      if (!valid.ok) return valid;
      let held: StoreFailure | undefined;
      this.ctx.storage.transactionSync(() => { held = holdDocChange(this.sql, actor, live.value, current, change.value as Change<unknown>, required); });
      return held!;
    }
    const version = this.commit(actor, change.value);
    if (!version.ok) return version;
    // A commit can start publish lag and change flag staleness; afterCommit arms the alarm for it.
    this.alerts.soon();
    // The change event's enqueue runs beside the KV publish: the answer waits for the slower one.
    await Promise.all([this.publishing.afterCommit(), this.webhooks.flush()]);
    return done(change.value.answer(version.value));
  }

  /** `plan` decided and its document validated exactly as `mutate` would, but nothing is written. */
  private check<T>(plan: (current: EnvironmentDoc, meta: Meta) => StoreResult<Change<T>>): StoreResult<Change<T>> {
    const live = this.live();
    if (!live.ok) return live;
    const change = plan(this.currentDoc(live.value), live.value);
    if (!change.ok) return change;
    const valid = validDoc(change.value.next, this.cache?.encoded, change.value.touchedFlags);
    return valid.ok ? change : valid;
  }

  private currentDoc(meta: Meta): EnvironmentDoc {
    if (this.cache?.version !== meta.version) this.cache = { version: meta.version, doc: loadDoc(this.sql, meta.extra) };
    return this.cache.doc;
  }

  /** The current document with `draft` in place of (or added as) its flag, compiled as a PUT would be; never cached, never written. */
  private draftCompiled(meta: Meta, input: Flag): StoreResult<CompiledEnvironment> {
    const parsed = parseFlag(input);
    if (!parsed.ok) return invalid(parsed.errors.map((i) => ({ ...i, path: i.path ? `draft.${i.path}` : "draft" })));
    const draft = parsed.value;
    const current = this.currentDoc(meta);
    const exists = current.flags.some((f) => f.key === draft.key);
    const result = compileEnvironment({ ...current, flags: upsert(current.flags, draft, exists) });
    return result.ok ? done(result.value) : invalid(result.errors);
  }

  private currentCompiled(meta: Meta): StoreResult<CompiledEnvironment> {
    if (this.compiled?.version === meta.version) return done(this.compiled.env);
    const result = compileEnvironment(this.currentDoc(meta));
    if (!result.ok) return invalid(result.errors);
    this.compiled = { version: meta.version, env: result.value };
    return done(result.value);
  }

  /**
   * Validates `change.next` (the whole resulting document) and, when it compiles, runs its write
   * with the new version in one transaction together with the version bump and the audit row.
   * Answers the new version, or the refusal with nothing changed.
   */
  private commit(actor: Actor, change: Change<unknown>): StoreResult<number> {
    const { next, operation, target } = change;
    const valid = validDoc(next, this.cache?.encoded, change.touchedFlags);
    if (!valid.ok) return valid;
    const { compiled, encoded } = valid.value;
    const time = new Date().toISOString();
    let version = 0;
    try {
      this.ctx.storage.transactionSync(() => {
        version = bumpVersion(this.sql);
        const diff = change.write(version);
        appendAudit(this.sql, { version, time, actor: String(actor), operation, ...(target === undefined ? {} : { target }), diff });
        this.webhooks.recordChange({ version, time, actor: String(actor), operation, ...(target === undefined ? {} : { target }), diff });
      });
    } catch (err) {
      const refused = storageLimit(err);
      if (refused) return refused;
      throw err;
    }
    this.cache = { version, doc: next, encoded };
    // After a check of touched flags only, explain compiles the document when first asked.
    this.compiled = compiled && { version, env: compiled };
    return done(version);
  }

  private publishSource(): Omit<PublishSource, "scheduleRetry"> {
    return {
      state: () => {
        const meta = readMeta(this.sql);
        if (!meta) return undefined;
        return {
          name: meta.name,
          version: meta.version,
          deleted: meta.deleted,
          publishedAt: auditTime(this.sql, meta.version) ?? meta.created,
          encoded: () => {
            const doc = this.currentDoc(meta);
            return (this.cache!.encoded ??= encodeVersion(doc, undefined).value);
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
      },
      pendingKeys: () => keys.pendingKeys(this.sql),
      markKey: (id, revoked) => keys.markKeyPublished(this.sql, id, revoked),
      onWritten: (version) => this.broadcast({ type: "version", version }),
      chunks: this.chunks,
    };
  }

  private broadcast(message: VersionMessage): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(text); } catch { /* closing socket: it will be cleaned up */ }
    }
  }
}

/**
 * The one validation of a resulting document: it compiles, and its snapshot fits in KV. Encoded
 * from the version before where it is held, so only the chunks of changed items are serialised.
 */
function validDoc(next: EnvironmentDoc, previous: Encoded | undefined, touchedFlags?: readonly string[]): StoreResult<{ compiled?: CompiledEnvironment; encoded: Encoded }> {
  let compiled: CompiledEnvironment | undefined;
  if (touchedFlags) {
    const checked = checkTouchedFlags(next, touchedFlags);
    if (!checked.ok) return invalid(checked.errors);
  } else {
    const whole = compileEnvironment(next);
    if (!whole.ok) return invalid(whole.errors);
    compiled = whole.value;
  }
  const encoded = encodeVersion(next, previous);
  if (encoded.tooBig) return invalid([{ path: "", message: encoded.tooBig }]);
  return done({ compiled, encoded: encoded.value });
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** An RPC argument as `[key, item]` pairs for `overlay`; the items themselves are validated with the whole resulting document. */
function keyedList<T extends { key: string }>(items: readonly T[] | undefined, path: string): StoreResult<[string, T][]> {
  if (!Array.isArray(items) || !items.every((i) => typeof i === "object" && i !== null && !Array.isArray(i))) {
    return invalid([{ path, message: "must be a list of objects" }]);
  }
  return done(items.map((i): [string, T] => [i.key, i]));
}

function found<T>(item: T | undefined, missing: string): StoreResult<T> {
  return item === undefined ? notFound(missing) : done(item);
}
