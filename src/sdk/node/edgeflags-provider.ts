/**
 * `EdgeflagsProvider`: an OpenFeature server provider for Node.js 20+ that evaluates in-process.
 *
 * It holds one environment's definitions (`GET /sdk/v1/snapshot`, server key), evaluates them
 * with the edge's own engine (../definitions.ts) and resolves by the OFREP routes' rules
 * (../resolve.ts), so each answer equals `POST /ofrep/v1/evaluate/flags/{key}`'s with no network
 * call. ../snapshot-sync.ts keeps the definitions current (change stream, ETag polling, backoff),
 * ../status.ts turns what it sees into READY / STALE / ERROR, ../usage-reporter.ts counts
 * evaluations and reports them in batches, and ./cache-file.ts keeps the last definitions on disk
 * when `cacheFile` is given. docs/sdk.md is the user's page.
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
import { changedFlagKeys, emptySnapshot, openDefinitions, type Definitions, type SnapshotBody } from "../definitions";
import { asJsonContext, resolution, type FlagValueKind } from "../resolve";
import { SnapshotSync } from "../snapshot-sync";
import { StatusTracker, type ProviderState } from "../status";
import { usageRouteSender } from "../usage-route";
import { DEFAULT_USAGE_INTERVAL_MS, UsageReporter } from "../usage-reporter";
import { cacheOwner, CacheFileWriter, readCacheFile } from "./cache-file";

export interface EdgeflagsProviderOptions {
  /** The edgeflags server, e.g. `https://flags.example.com` (where `/sdk/v1/snapshot` is). */
  baseUrl: string;
  /** A server SDK key (`efs_…`) of the environment to evaluate. */
  sdkKey: string;
  /** A file to keep the last definitions in, so the process can start while the server is down. */
  cacheFile?: string;
  /** Unreachable this long without a break: ERROR instead of STALE (default 5 minutes). */
  errorAfterMs?: number;
  /** Between snapshot polls when the change stream is not available (default 30 s). */
  pollIntervalMs?: number;
  /** First reconnect delay after a failure (default 500 ms); it doubles up to `retryMaxMs`. */
  retryMinMs?: number;
  /** Longest reconnect delay (default 15 s). */
  retryMaxMs?: number;
  /** A request unanswered after this long has failed (default 10 s). */
  requestTimeoutMs?: number;
  /** A change stream silent this long is reconnected (default 90 s; the server pings every 25 s). */
  streamIdleMs?: number;
  /** Report evaluation counts to the server (default true). */
  usage?: boolean;
  /** Longest an evaluation count waits before it is sent (default 10 s). */
  usageIntervalMs?: number;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

export const DEFAULTS = {
  errorAfterMs: 300_000,
  pollIntervalMs: 30_000,
  retryMinMs: 500,
  retryMaxMs: 15_000,
  requestTimeoutMs: 10_000,
  streamIdleMs: 90_000,
  usageIntervalMs: DEFAULT_USAGE_INTERVAL_MS,
} as const;

export class EdgeflagsProvider implements Provider {
  readonly metadata = { name: "edgeflags" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly hooks = [];

  private definitions: Definitions | undefined;
  private readonly sync: SnapshotSync;
  private readonly tracker: StatusTracker;
  private readonly usage: UsageReporter | undefined;
  private readonly count: ((result: Parameters<UsageReporter["count"]>[0]) => void) | undefined;
  private readonly cacheFile: string | undefined;
  private readonly owner: string;
  private readonly cacheWriter: CacheFileWriter | undefined;
  /** Settles `initialize` on the first snapshot or the first failure (then from the cache file). */
  private starting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private initializing: Promise<void> | undefined;

  constructor(options: EdgeflagsProviderOptions) {
    if (typeof options?.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl))
      throw new TypeError("EdgeflagsProvider: baseUrl must be an http(s) URL");
    if (typeof options.sdkKey !== "string" || options.sdkKey === "")
      throw new TypeError("EdgeflagsProvider: sdkKey is required (a server SDK key)");
    const o = { ...DEFAULTS, ...definedOnly(options) };
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.owner = cacheOwner(o.baseUrl, o.sdkKey);
    this.cacheFile = options.cacheFile;
    this.cacheWriter = options.cacheFile ? new CacheFileWriter(options.cacheFile, this.owner, () => {}) : undefined;
    this.tracker = new StatusTracker({
      errorAfterMs: o.errorAfterMs,
      emit: (state, message) => this.emitStatus(state, message),
    });
    this.sync = new SnapshotSync(
      {
        baseUrl: o.baseUrl,
        sdkKey: o.sdkKey,
        fetch: fetchFn,
        pollIntervalMs: o.pollIntervalMs,
        retry: { minMs: o.retryMinMs, maxMs: o.retryMaxMs },
        requestTimeoutMs: o.requestTimeoutMs,
        streamIdleMs: o.streamIdleMs,
      },
      {
        snapshot: (body, etag) => this.install(body, etag),
        unpublished: () => {
          if (!this.definitions) this.install(emptySnapshot(), null);
        },
        reachable: () => {
          if (this.starting) return;
          this.tracker.reachable();
        },
        unreachable: (error, refused) => {
          if (this.starting) void this.startWithout(error, refused);
          else this.tracker.unreachable(error, refused);
        },
      },
    );
    if (options.usage !== false) {
      const usage = new UsageReporter({
        intervalMs: o.usageIntervalMs,
        send: usageRouteSender({ baseUrl: o.baseUrl, sdkKey: o.sdkKey, fetch: fetchFn, timeoutMs: o.requestTimeoutMs }),
      });
      this.usage = usage;
      this.count = (result) => usage.count(result);
    }
  }

  /** READY, STALE or ERROR as this provider last decided (NOT_READY before `initialize` settles). */
  get state(): ProviderState {
    return this.tracker.state;
  }

  /** The environment version answering now (undefined before the first definitions). */
  get version(): number | undefined {
    return this.definitions?.snapshot.version;
  }

  initialize(): Promise<void> {
    this.initializing ??= new Promise<void>((resolve, reject) => {
      this.starting = { resolve, reject };
      this.sync.start();
    });
    return this.initializing;
  }

  async onClose(): Promise<void> {
    this.starting?.reject(new Error("EdgeflagsProvider closed before it was ready"));
    this.starting = undefined;
    this.tracker.stop();
    await Promise.all([this.sync.stop(), this.usage?.close()]);
    await this.cacheWriter?.settled();
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "boolean"));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "string"));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "number"));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "object"));
  }

  private resolve<T extends FlagValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    kind: FlagValueKind,
  ): ResolutionDetails<T> {
    const defs = this.definitions;
    if (!defs)
      return {
        value: defaultValue,
        reason: "ERROR",
        errorCode: ErrorCode.PROVIDER_NOT_READY,
        errorMessage: "no definitions yet",
      };
    return resolution(defs.compiled.evaluate(flagKey, asJsonContext(context)), defaultValue, kind, this.count);
  }

  /** New definitions from the server (or the cache file): kept when newer than what is held. */
  private install(snapshot: SnapshotBody, etag: string | null, fromCache = false): void {
    const before = this.definitions;
    if (before && snapshot.version <= before.snapshot.version && before.snapshot.version > 0) return;
    this.definitions = openDefinitions(snapshot);
    if (!fromCache && etag !== null) this.cacheWriter?.write({ snapshot, etag });
    if (this.starting) {
      this.started();
    } else if (before) {
      this.events.emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged: changedFlagKeys(before.snapshot.doc, snapshot.doc),
      });
    }
  }

  private started(): void {
    const starting = this.starting;
    this.starting = undefined;
    this.tracker.initialized();
    starting?.resolve();
  }

  /** The first attempt failed: start from the cache file when there is one, else fail `initialize`. */
  private async startWithout(error: Error, refused: boolean): Promise<void> {
    const cached = !refused && this.cacheFile ? await readCacheFile(this.cacheFile, this.owner) : undefined;
    if (!this.starting) return; // a snapshot arrived meanwhile
    this.tracker.unreachable(error, refused);
    if (cached) {
      this.sync.hold(cached.snapshot.version, cached.etag);
      this.install(cached.snapshot, cached.etag, true);
      return;
    }
    const starting = this.starting;
    this.starting = undefined;
    this.tracker.failed();
    starting.reject(new Error(`edgeflags: cannot load the definitions: ${error.message}`));
  }

  private emitStatus(state: "READY" | "STALE" | "ERROR", message?: string): void {
    if (state === "READY") this.events.emit(ProviderEvents.Ready, { message: "edgeflags: connected" });
    else if (state === "STALE")
      this.events.emit(ProviderEvents.Stale, { message: `edgeflags: answering from the last definitions: ${message}` });
    else this.events.emit(ProviderEvents.Error, { message: `edgeflags: ${message}` });
  }
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
