/**
 * One environment's single writer and source of truth (a SQLite Durable Object, one per
 * environment via `ENV_STORE.idFromName(env)`). This class is wiring: it builds the parts and
 * answers each RPC with one call into one of them.
 *
 * The parts: the liveness gate (liveness.ts), the write path every document change takes
 * (write-path.ts) with its planners (keyed-items.ts, document-plans.ts), SDK keys (sdk-keys.ts),
 * the change stream (change-stream.ts), create and destroy (create-destroy.ts), KV publishing
 * (publishing/), releases (releases/), insights, alerts and webhooks; the one DO alarm is set by
 * the alarm scheduler (alarm-scheduler.ts) from each part's next due time.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { FlagdImport } from "../../core/flagd/import";
import type { EvaluationContext } from "../../core/evaluation-types";
import type { Flag } from "../../core/model";
import type { PlanStep } from "../../core/rollout-plan";
import type { AlertsStoreApi, DeadLetter, InsightsStoreApi } from "../../core/wire/insights-rpc";
import type { KeyKind } from "../../core/wire/kv-layout";
import type { UsageMessage } from "../../core/wire/queue-messages";
import type {
  ChangeRequestPage,
  PlanAction,
  Policy,
  ReviewAction,
  ReviewPrincipals,
} from "../../core/wire/releases-rpc";
import type { Actor, EnvironmentStoreApi, PromotedItems, StoreResult } from "../../core/wire/store-rpc";
import { StoreAlerts } from "../alerts/alerts";
import type { StoreBindings as Env } from "../bindings";
import { StoreInsights } from "../insights/insights";
import { DEFAULT_POINTER_INTERVAL_MS, Publishing } from "../publishing/publish";
import { ChunkLedger } from "../publishing/chunk-ledger";
import { SnapshotCollector } from "../publishing/snapshot-gc";
import { ApprovalPolicy } from "../releases/approval-gate";
import { ChangeRequests } from "../releases/change-requests";
import { repeatHeld } from "../releases/held-actions";
import type { ReleaseHost } from "../releases/host";
import { RolloutPlans } from "../releases/rollout-plans";
import { Schedules } from "../releases/schedules";
import { success, noEnvironment, notFound } from "../results";
import { migrateStore } from "../schema";
import type { Sql } from "../sql";
import { StoreWebhooks } from "../webhooks/webhooks";
import { AlarmScheduler } from "./alarm-scheduler";
import { ChangeStream } from "./change-stream";
import { createEnvironment, destroyEnvironment, type ExistenceHost } from "./create-destroy";
import { DocumentPlans } from "./document-plans";
import { pageHistory } from "./events-repo";
import { explainFlag } from "./explain";
import * as flags from "./flags-repo";
import { FLAGS, KeyedItems, SEGMENTS } from "./keyed-items";
import * as keys from "./keys-repo";
import { liveMeta, liveOrUndefined, whenLive } from "./liveness";
import { readMeta, setPublished } from "./meta-repo";
import { publishSource } from "./publish-source";
import { SdkKeys } from "./sdk-keys";
import * as segments from "./segments-repo";
import { optionalNumber } from "./validate";
import { WritePath } from "./write-path";
import { BigSegments, MAX_PAGE_KEYS } from "./big-segments";
import type { KeyBatch } from "../../core/wire/big-segments";
import { usageFlushMs } from "../insights/usage-buffer";

function pointerInterval(env: Env): number {
  const raw = Number(env.KV_POINTER_MIN_INTERVAL_MS);
  return Number.isFinite(raw) && raw >= 0 ? raw : DEFAULT_POINTER_INTERVAL_MS;
}

export class EnvironmentStore
  extends DurableObject<Env>
  implements EnvironmentStoreApi, InsightsStoreApi, AlertsStoreApi
{
  private readonly sql: Sql;
  private readonly writes: WritePath;
  private readonly items: KeyedItems;
  /** Big segments' key batches and pages (big-segments.ts). */
  private readonly bigSegments: BigSegments;
  private readonly docs: DocumentPlans;
  private readonly keys: SdkKeys;
  private readonly stream: ChangeStream;
  private readonly scheduler: AlarmScheduler;
  private readonly existence: ExistenceHost;
  /** Public for tests (`runInDurableObject`): `publishing.publisher.kv` can be swapped for a failing wrapper. Fields are not RPC-callable. */
  readonly publishing: Publishing;
  /** Public for tests: its `graceMs` and `retryMs` can be shortened. */
  readonly snapshots: SnapshotCollector;
  /** Which snapshot chunks KV holds (publishing/chunk-ledger.ts). */
  private readonly chunks: ChunkLedger;
  /** Releasing (releases/): scheduled changes, rollout plans, the approval policy, change requests. */
  private readonly schedules: Schedules;
  private readonly plans: RolloutPlans;
  private readonly policy: ApprovalPolicy;
  private readonly changeRequests: ChangeRequests;
  /** Public for tests: usage, metrics and lifecycle (insights/); its `now` can be moved. */
  readonly insights: StoreInsights;
  /** Public for tests: subscriptions and the outbox of change events (webhooks/). */
  readonly webhooks: StoreWebhooks;
  /** Public for tests: alert evaluation (alerts/); it reads the insights clock. */
  readonly alerts: StoreAlerts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = (this.sql = ctx.storage.sql as unknown as Sql);
    const transaction = (fn: () => void) => ctx.storage.transactionSync(fn);
    const arm = () => this.scheduler.arm();
    this.stream = new ChangeStream(ctx, sql);
    this.writes = new WritePath({
      sql,
      transaction,
      recordChange: (change) => this.webhooks.recordChange(change),
      // A commit can start publish lag and change flag staleness (afterCommit arms the alarm for
      // it); the change event's enqueue runs beside the KV publish: the answer waits for the slower.
      afterCommit: async () => {
        this.alerts.soon();
        await Promise.all([this.publishing.afterCommit(), this.webhooks.flush()]);
      },
    });
    this.items = new KeyedItems(sql);
    this.bigSegments = new BigSegments({
      sql,
      transaction,
      live: () => liveMeta(sql),
      kv: () => this.publishing.publisher.kv,
      mutate: (a, p, g) => this.writes.mutate(a, p, g),
      segment: (key) => {
        const live = liveMeta(sql);
        return live.ok ? this.writes.current(live.value).segments.find((s) => s.key === key) : undefined;
      },
    });
    this.docs = new DocumentPlans(sql);
    this.chunks = new ChunkLedger(sql);
    this.publishing = new Publishing(
      env.FLAGS_KV,
      publishSource(sql, transaction, this.writes, this.chunks, (v) => this.stream.published(v)),
      pointerInterval(env),
      arm,
    );
    this.keys = new SdkKeys(sql, () => this.publishing.afterKeyChange());
    this.snapshots = new SnapshotCollector(sql, () => this.publishing.publisher.kv, {
      ledger: this.chunks,
      inLane: (work) => this.publishing.publisher.inLane(work),
    });
    const releasing: ReleaseHost = {
      sql,
      transaction,
      mutate: (a, p, g) => this.writes.mutate(a, p, g),
      check: (p) => this.writes.check(p),
      armAlarm: arm,
    };
    this.schedules = new Schedules(releasing);
    this.plans = new RolloutPlans(releasing);
    this.policy = new ApprovalPolicy(releasing);
    const held = { schedules: this.schedules, plans: this.plans, policy: this.policy, segmentKeys: this.bigSegments };
    this.changeRequests = new ChangeRequests(releasing, (action, actor, request) =>
      repeatHeld(held, action, actor, request),
    );
    this.insights = new StoreInsights({
      sql,
      transaction,
      live: () => liveOrUndefined(sql),
      flags: () => flags.listFlags(sql),
      flag: (key) => flags.getFlag(sql, key),
      usageFlushMs: usageFlushMs(env),
    });
    this.webhooks = new StoreWebhooks({
      sql,
      liveName: () => liveOrUndefined(sql)?.name,
      queue: () => env.INSIGHTS_QUEUE,
    });
    this.alerts = new StoreAlerts({
      sql,
      transaction,
      live: () => liveOrUndefined(sql),
      now: () => this.insights.now(),
      minutes: (count, now) => this.insights.minutes(count, now),
      lastDataAt: () => this.insights.lastDataAt(),
      publishLagSeconds: (meta, now) => this.insights.publishLagSeconds(meta, now),
      staleOutlook: () => this.insights.staleOutlook(),
      recordEvent: (event) => this.webhooks.record(event),
      pausePlans: (reason, actor) => this.plans.pauseRunning(reason, actor),
    });
    this.scheduler = new AlarmScheduler(ctx.storage, [
      this.publishing,
      { dueAt: () => this.snapshots.nextAt() },
      this.schedules,
      this.plans,
      this.webhooks,
      this.alerts,
    ]);
    this.existence = {
      sql,
      transaction,
      writes: this.writes,
      publish: () => this.publishing.afterCommit(),
      closeStream: () => this.stream.closeAll(),
    };
    void ctx.blockConcurrencyWhile(async () => {
      transaction(() => migrateStore(sql));
      await this.scheduler.restore();
    });
  }

  // ---- environment ----------------------------------------------------------------------------
  async create(name: string, actor: Actor) {
    return createEnvironment(this.existence, name, actor);
  }
  async info() {
    return whenLive(this.sql, (meta) =>
      success({
        name: meta.name,
        version: meta.version,
        flags: flags.countFlags(this.sql),
        segments: segments.countSegments(this.sql),
      }),
    );
  }
  async destroy(actor: Actor) {
    return destroyEnvironment(this.existence, actor);
  }

  // ---- flags and segments (keyed-items.ts) -----------------------------------------------------
  async listFlags() {
    return whenLive(this.sql, () => success(flags.listFlags(this.sql)));
  }
  async getFlag(key: string) {
    return whenLive(this.sql, () => found(flags.getFlag(this.sql, key), `no flag "${key}"`));
  }
  async putFlag(input: unknown, actor: Actor, ifMatch?: number) {
    return this.writes.mutate(actor, this.items.put(FLAGS, input, ifMatch));
  }
  async deleteFlag(key: string, actor: Actor, ifMatch?: number) {
    return this.writes.mutate(actor, this.items.remove(FLAGS, key, ifMatch));
  }
  async setFlagEnabled(key: string, enabled: boolean, actor: Actor, ifMatch?: number) {
    return this.writes.mutate(actor, this.items.toggle(key, enabled, ifMatch));
  }
  async listSegments() {
    return whenLive(this.sql, () => success(segments.listSegments(this.sql)));
  }
  async listSegmentSummaries() {
    return whenLive(this.sql, () => success(segments.listSegmentSummaries(this.sql)));
  }
  async getSegment(key: string) {
    return whenLive(this.sql, () => found(segments.getSegment(this.sql, key), `no segment "${key}"`));
  }
  async putSegment(input: unknown, actor: Actor, ifMatch?: number) {
    return this.writes.mutate(actor, this.items.put(SEGMENTS, input, ifMatch));
  }
  async deleteSegment(key: string, actor: Actor, ifMatch?: number) {
    return this.writes.mutate(actor, this.items.remove(SEGMENTS, key, ifMatch));
  }
  async changeSegmentKeys(key: string, batch: KeyBatch, actor: Actor) {
    return this.bigSegments.change(key, batch, actor);
  }
  async segmentKeys(key: string, after?: string, limit?: number) {
    return this.bigSegments.page(
      key,
      typeof after === "string" ? after : undefined,
      optionalNumber(limit) ?? MAX_PAGE_KEYS,
    );
  }

  // ---- whole document (document-plans.ts, explain.ts) -------------------------------------------
  async replaceAll(input: unknown, actor: Actor, operation: string) {
    return this.writes.mutate(actor, this.docs.replace(input, operation));
  }
  async importFlagd(imported: FlagdImport, actor: Actor) {
    return this.writes.mutate(actor, this.docs.importFlagd(imported));
  }
  async mergePromoted(items: PromotedItems, actor: Actor) {
    return this.writes.mutate(actor, this.docs.promote(items));
  }
  async rollback(target: number, actor: Actor) {
    return this.writes.mutate(actor, this.docs.rollback(target));
  }
  async exportDoc() {
    return whenLive(this.sql, (meta) => success({ doc: this.writes.current(meta), version: meta.version }));
  }
  // Readable after a delete too: only an environment that never existed has none.
  async history(options: { before?: number; limit?: number }) {
    return readMeta(this.sql)
      ? success(pageHistory(this.sql, optionalNumber(options?.before), optionalNumber(options?.limit)))
      : noEnvironment;
  }
  async explain(flagKey: string, context: EvaluationContext, draft?: Flag) {
    return whenLive(this.sql, (meta) => explainFlag(this.writes, this.sql, meta, flagKey, context, draft));
  }

  // ---- releases (releases/: schedules, rollout plans, the approval policy, change requests) ------
  async createSchedule(input: { at: string; flag: string; patch: unknown }, actor: Actor) {
    return this.schedules.create(input, actor);
  }
  async listSchedules() {
    return this.schedules.list();
  }
  async cancelSchedule(id: string, actor: Actor) {
    return this.schedules.cancel(id, actor);
  }
  async putPlan(flag: string, input: { variant: string; steps: PlanStep[] }, actor: Actor) {
    return this.plans.put(flag, input, actor);
  }
  async getPlan(flag: string) {
    return this.plans.get(flag);
  }
  async controlPlan(flag: string, action: PlanAction, actor: Actor) {
    return this.plans.control(flag, action, actor);
  }
  async pauseRunningPlans(reason: string, actor: Actor) {
    return this.plans.pauseRunning(reason, actor);
  }
  async getPolicy() {
    return this.policy.get();
  }
  async putPolicy(policy: Policy, actor: Actor) {
    return this.policy.put(policy, actor);
  }
  async listChangeRequests(options?: ChangeRequestPage) {
    return this.changeRequests.list(options);
  }
  async getChangeRequest(id: string) {
    return this.changeRequests.get(id);
  }
  async reviewChangeRequest(id: string, action: ReviewAction, actor: Actor, principals?: ReviewPrincipals) {
    return this.changeRequests.review(id, action, actor, principals);
  }

  // ---- SDK keys (sdk-keys.ts) -------------------------------------------------------------------
  async mintKey(kind: KeyKind, actor: Actor) {
    return this.keys.mint(kind, actor);
  }
  async listKeys() {
    return this.keys.list();
  }
  async revokeKey(id: string, actor: Actor) {
    return this.keys.revoke(id, actor);
  }

  // ---- insights (usage from the queue consumer, metrics, lifecycle; insights/) ------------------
  // Traffic and new lifecycle settings can change alerts at once: `soon` says whether to re-arm.
  async recordUsage(messages: UsageMessage[]) {
    return this.rearmIf(await this.insights.recordUsage(messages), (o) => o.applied > 0 && this.alerts.soon());
  }
  async recordDeadLetters(letters: DeadLetter[]) {
    return this.insights.recordDeadLetters(letters);
  }
  async flagUsage(flag: string, hours: number) {
    return this.insights.flagUsage(flag, hours);
  }
  async edgeMetrics(minutes: number) {
    return this.insights.edgeMetrics(minutes);
  }
  async flagLifecycles() {
    return this.insights.flagLifecycles();
  }
  async flagLifecycle(key: string) {
    return this.insights.flagLifecycle(key);
  }
  async lifecycleSettings() {
    return this.insights.lifecycleSettings();
  }
  async setLifecycleSettings(patch: unknown) {
    return this.rearmIf(this.insights.setLifecycleSettings(patch), (set) => set.ok && this.alerts.soon());
  }

  // ---- alerts (alerts/: evaluated on the alarm, announced through the webhook outbox) ------------
  async listAlerts() {
    return this.alerts.list();
  }
  async alertSettings() {
    return this.alerts.settings();
  }
  async setAlertSettings(patch: unknown) {
    return this.rearmIf(this.alerts.setSettings(patch), (set) => set.ok);
  }

  // ---- webhooks (webhooks/; deliveries go out through the queue, src/queue/webhook-delivery.ts) --
  async createWebhook(input: unknown, actor: Actor) {
    return this.webhooks.create(input, String(actor));
  }
  async listWebhooks() {
    return this.webhooks.list();
  }
  async deleteWebhook(id: string) {
    return this.webhooks.remove(id);
  }
  async webhookTarget(id: string) {
    return this.webhooks.target(id);
  }

  // ---- publishing and the alarm -------------------------------------------------------------------
  async republish() {
    return this.republishAll();
  }

  /** Publishing first (retries, backstop) beside the outbox, then due schedules and plan steps, then alerts, then deleting superseded snapshots, then the next alarm. */
  override async alarm(): Promise<void> {
    await Promise.all([this.publishing.onAlarm(), this.webhooks.flush()]);
    await this.schedules.runDue();
    await this.plans.runDue();
    // After publishing had its try, so a lag it just closed is not announced; the events go out at once.
    if (await this.alerts.runDue()) await this.webhooks.flush();
    const name = readMeta(this.sql)?.name;
    if (name !== undefined) {
      await this.snapshots.collect(name);
      await this.snapshots.collectChunks(name);
    }
    // Set explicitly: a run that sets no new alarm leaves none behind.
    await this.scheduler.arm();
  }

  // ---- change stream (change-stream.ts) -----------------------------------------------------------
  override async fetch(request: Request): Promise<Response> {
    return this.stream.subscribe(request);
  }
  async streamSockets() {
    return whenLive(this.sql, () => success({ sockets: this.stream.sockets() }));
  }
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.stream.message(ws, message);
  }
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.stream.close(ws, code, reason);
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** `result`, after arming the alarm when `needs` says a part's due time moved earlier. */
  private async rearmIf<T>(result: T, needs: (result: T) => boolean): Promise<T> {
    if (needs(result)) await this.scheduler.arm();
    return result;
  }

  /** Every KV record written again from this object alone: pointer, snapshot and key records. */
  private async republishAll() {
    const live = liveMeta(this.sql);
    if (!live.ok) return live;
    this.ctx.storage.transactionSync(() => {
      setPublished(this.sql, "published_version", 0);
      setPublished(this.sql, "snapshot_version", 0);
      this.chunks.unstoreAll();
      keys.markAllKeysPending(this.sql);
    });
    await this.publishing.afterCommit();
    return success({ version: live.value.version });
  }
}

function found<T>(item: T | undefined, missing: string): StoreResult<T> {
  return item === undefined ? notFound(missing) : success(item);
}
