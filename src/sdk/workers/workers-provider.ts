/**
 * `WorkersProvider`: an OpenFeature server provider for code running in a Cloudflare Worker of
 * the account edgeflags is deployed to. It evaluates from the published snapshots in the KV
 * namespace binding itself (`new WorkersProvider({ kv: env.FLAGS_KV, sdkKey })`), with the edge's
 * own reader (core/wire/snapshot-reader.ts: isolate memory → KV → last known good) and engine, so
 * an evaluation makes no HTTP call and, within `refreshMs`, no KV read either; each answer is
 * resolved by the OFREP routes' rules (../resolve.ts), as `EdgeflagsProvider` answers.
 *
 * Authorised by a server key whose KV record names the environment (./server-key.ts). Statuses:
 * READY once the key and a snapshot are read (an environment never published answers
 * FLAG_NOT_FOUND for every flag); STALE while KV fails and the last snapshot answers; READY again
 * when KV answers; ERROR when the key is refused (revoked later: evaluations answer the default
 * with GENERAL). `PROVIDER_CONFIGURATION_CHANGED` is emitted, with the changed flag keys, when an
 * evaluation first sees a new version.
 *
 * Usage (optional): counted in memory (../usage-reporter.ts) and sent in batches onto the
 * insights queue (`usage: { queue: env.INSIGHTS_QUEUE }`, ./usage-queue.ts) or through `POST
 * /sdk/v1/usage` (`usage: { baseUrl }`). A Worker's timers do not outlive its requests, so the
 * application hands the provider a request's `waitUntil` to send in: `ctx.waitUntil(provider.flushUsage())`
 * (cheap when no window has ended).
 * @module
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  type EvaluationContext,
  type FlagValue,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import type { CompiledEnvironment } from "../../core/evaluation-types";
import { openEnvironment } from "../../core/lazy-compile";
import { SnapshotReader, type KvGet, type Loaded } from "../../core/wire/snapshot-reader";
import type { SnapshotRead } from "../../core/wire/snapshot-text";
import { changedFlagKeys } from "../definitions";
import { asJsonContext, resolution, type FlagValueKind } from "../resolve";
import { usageRouteSender } from "../usage-route";
import { DEFAULT_USAGE_INTERVAL_MS, UsageReporter } from "../usage-reporter";
import { readerKv, type KvBinding } from "./kv-binding";
import { ServerKey } from "./server-key";
import { queueUsageSender, type QueueBinding } from "./usage-queue";

export type { KvBinding } from "./kv-binding";
export type { QueueBinding } from "./usage-queue";

/** Where evaluation counts go: the insights queue (a producer binding) or the usage route. */
export type WorkersUsage = { queue: QueueBinding } | { baseUrl: string; fetch?: typeof fetch };

export interface WorkersProviderOptions {
  /** The KV namespace edgeflags publishes to (`FLAGS_KV` in its wrangler.toml), bound to this Worker. */
  kv: KvBinding;
  /** A server SDK key (`efs_…`) of the environment to evaluate. */
  sdkKey: string;
  /**
   * How long the snapshot and the key record are trusted before the next evaluation re-reads KV
   * (default 30 s: the pointer's own KV cache lifetime, as the deployed edge).
   */
  refreshMs?: number;
  /** Report evaluation counts (default: not reported). */
  usage?: WorkersUsage;
  /** Longest an evaluation count waits before `flushUsage` sends it (default 10 s). */
  usageIntervalMs?: number;
}

export const DEFAULT_WORKERS_REFRESH_MS = 30_000;
/** A usage send not settled after this long died with its request; the next flush sends it again. */
const USAGE_ABANDON_MS = 30_000;
const USAGE_TIMEOUT_MS = 10_000;

/** As the edge opens a snapshot: each flag is parsed and compiled when first evaluated. */
const compile = (snapshot: SnapshotRead) => openEnvironment(snapshot.source);

type State = "NOT_READY" | "READY" | "STALE" | "ERROR";

export class WorkersProvider implements Provider {
  readonly metadata = { name: "edgeflags-workers" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks = [];

  private readonly kv: KvGet;
  private readonly key: ServerKey;
  private readonly reader: SnapshotReader<CompiledEnvironment>;
  private readonly usage: UsageReporter | undefined;
  private readonly count: ((result: Parameters<UsageReporter["count"]>[0]) => void) | undefined;
  private readonly usageIntervalMs: number;
  private lastFlush = 0;
  private held: Loaded<CompiledEnvironment> | undefined;
  private current: State = "NOT_READY";

  constructor(options: WorkersProviderOptions) {
    if (!options?.kv || typeof options.kv.get !== "function")
      throw new TypeError("WorkersProvider: kv must be a KV namespace binding (env.FLAGS_KV)");
    if (typeof options.sdkKey !== "string" || options.sdkKey === "")
      throw new TypeError("WorkersProvider: sdkKey is required (a server SDK key)");
    const refreshMs = options.refreshMs ?? DEFAULT_WORKERS_REFRESH_MS;
    this.kv = readerKv(options.kv);
    this.key = new ServerKey(options.kv, options.sdkKey, refreshMs);
    this.reader = new SnapshotReader({ compile, refreshMs });
    this.usageIntervalMs = options.usageIntervalMs ?? DEFAULT_USAGE_INTERVAL_MS;
    const target = options.usage;
    if (target) {
      const send =
        "queue" in target
          ? queueUsageSender(target.queue, () => this.key.valid)
          : usageRouteSender({
              baseUrl: target.baseUrl,
              sdkKey: options.sdkKey,
              fetch: target.fetch ?? globalThis.fetch.bind(globalThis),
              timeoutMs: USAGE_TIMEOUT_MS,
            });
      const usage = new UsageReporter({ send, intervalMs: this.usageIntervalMs, abandonAfterMs: USAGE_ABANDON_MS });
      this.usage = usage;
      this.count = (result) => usage.count(result);
    }
  }

  /** READY, STALE or ERROR as this provider last saw KV and its key (NOT_READY before `initialize`). */
  get state(): State {
    return this.current;
  }

  /** The environment version that answered last (undefined before the first). */
  get version(): number | undefined {
    return this.held?.version;
  }

  /** Reads the key record and the snapshot once; rejects (status ERROR) when either cannot be had. */
  async initialize(): Promise<void> {
    const loaded = await this.load();
    if (!loaded.ok) {
      this.current = "ERROR";
      throw new Error(`edgeflags: ${loaded.detail}`);
    }
    this.current = loaded.snapshot?.stale ? "STALE" : "READY";
  }

  /**
   * Sends the counts of windows that have ended (at most one batch per `usageIntervalMs`); pass it
   * to the request's `ctx.waitUntil`. Resolves at once when nothing is due or usage is off.
   */
  flushUsage(): Promise<void> {
    const now = Date.now();
    if (!this.usage || now - this.lastFlush < this.usageIntervalMs) return Promise.resolve();
    this.lastFlush = now;
    return this.usage.flush();
  }

  async onClose(): Promise<void> {
    await this.usage?.close();
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return this.resolve(flagKey, defaultValue, context, "boolean");
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.resolve(flagKey, defaultValue, context, "string");
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.resolve(flagKey, defaultValue, context, "number");
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return this.resolve(flagKey, defaultValue, context, "object");
  }

  private async resolve<T extends FlagValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    kind: FlagValueKind,
  ): Promise<ResolutionDetails<T>> {
    const loaded = await this.load();
    if (!loaded.ok)
      return {
        value: defaultValue,
        reason: "ERROR",
        errorCode: ErrorCode.GENERAL,
        errorMessage: `edgeflags: ${loaded.detail}`,
      };
    if (!loaded.snapshot) {
      return {
        value: defaultValue,
        reason: "ERROR",
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `flag '${flagKey}' was not found: the environment has no published snapshot`,
      };
    }
    return resolution(
      loaded.snapshot.compiled.evaluate(flagKey, asJsonContext(context)),
      defaultValue,
      kind,
      this.count,
    );
  }

  /**
   * The key's verdict and the environment's snapshot (undefined: never published), from memory
   * while fresh; each change of status or version is announced here, on the evaluation that sees it.
   */
  private async load(): Promise<
    { ok: true; snapshot: Loaded<CompiledEnvironment> | undefined } | { ok: false; detail: string }
  > {
    const key = await this.key.check();
    if (!key.ok) {
      this.set(key.refused ? "ERROR" : "STALE", key.detail);
      return key;
    }
    const lookup = await this.reader.get(this.kv, key.record.environment);
    if (!lookup.ok) {
      if (lookup.reason === "none") {
        this.set("READY");
        return { ok: true, snapshot: undefined };
      }
      this.set("STALE", lookup.detail);
      return { ok: false, detail: lookup.detail };
    }
    const snapshot = lookup.snapshot;
    this.set(
      snapshot.stale ? "STALE" : "READY",
      snapshot.stale ? "flag storage unavailable; answering from the last snapshot" : undefined,
    );
    const before = this.held;
    if (before !== snapshot) {
      this.held = snapshot;
      if (before && before.version !== snapshot.version) this.changed(before, snapshot);
    }
    return { ok: true, snapshot };
  }

  private changed(before: Loaded<CompiledEnvironment>, after: Loaded<CompiledEnvironment>): void {
    const a = before.doc();
    const b = after.doc();
    this.events.emit(ProviderEvents.ConfigurationChanged, a && b ? { flagsChanged: changedFlagKeys(a, b) } : {});
  }

  /** Records a status; once initialized, a change is an event (the SDK sets its own on initialize). */
  private set(state: Exclude<State, "NOT_READY">, message?: string): void {
    if (this.current === state) return;
    const initialized = this.current !== "NOT_READY";
    this.current = state;
    if (!initialized) return;
    if (state === "READY") this.events.emit(ProviderEvents.Ready, { message: "edgeflags: reading KV again" });
    else if (state === "STALE") this.events.emit(ProviderEvents.Stale, { message: `edgeflags: ${message}` });
    else this.events.emit(ProviderEvents.Error, { message: `edgeflags: ${message}` });
  }
}
