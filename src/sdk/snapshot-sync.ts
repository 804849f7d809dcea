/**
 * Keeps an in-process SDK's definitions current over HTTP: `GET /sdk/v1/snapshot` with the ETag
 * it holds (a 304 costs no body), then the change stream whose URL that answer carries
 * (`X-Edgeflags-Stream`), refetching with `?flagConfigEtag=N` for each version N it announces;
 * the stream also announces the current version on connect, so a change missed while
 * reconnecting is fetched then. Without a stream (no signing secret, or it refuses to open) it
 * polls every `pollIntervalMs`, trying the stream again each time.
 *
 * One loop, one request at a time. A failure (network error, timeout, 5xx, 429, a stream silent
 * for `streamIdleMs`) is reported and retried after a backoff; 401/403 too, reported as refused.
 * @module
 */
import { backoffMs, type Backoff } from "./backoff";
import { unref } from "./timers";
import { asSnapshotBody, type SnapshotBody } from "./definitions";
import { announcedVersion, SseParser } from "./sse";

export interface SyncOptions {
  baseUrl: string;
  sdkKey: string;
  fetch: typeof fetch;
  /** Between snapshot polls when there is no change stream (default 30 s). */
  pollIntervalMs: number;
  /** Reconnect delays after a failure. */
  retry: Backoff;
  /** A request that has not answered by then failed (default 10 s). */
  requestTimeoutMs: number;
  /** A stream that has sent nothing (not even its heartbeat, every 25 s) for this long is dead. */
  streamIdleMs: number;
  random?: () => number;
}

export interface SyncEvents {
  /** A snapshot answered with a body (any version: the caller keeps the newest). */
  snapshot(body: SnapshotBody, etag: string | null): void;
  /** Nothing was ever published in the environment (404). */
  unpublished(): void;
  /** The server answered: the snapshot (200/304/404) or an open stream. */
  reachable(): void;
  /** An attempt failed; `refused` for 401/403 (a revoked key, a client key). */
  unreachable(error: Error, refused: boolean): void;
}

/** A failed exchange with the server, with its status when it answered. */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
  get refused(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** A stream shorter than this counts as a failed one for the reconnect backoff. */
const SHORT_STREAM_MS = 5_000;

export class SnapshotSync {
  private etag: string | null = null;
  private version = -1;
  private stopped = false;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private readonly random: () => number;

  constructor(
    private readonly o: SyncOptions,
    private readonly events: SyncEvents,
  ) {
    this.random = o.random ?? Math.random;
  }

  /** What is held already (a cache file's snapshot): answered with 304 while it is current. */
  hold(version: number, etag: string | null): void {
    this.version = version;
    this.etag = etag;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const streamUrl = await this.refresh(0);
        if (streamUrl !== undefined) {
          const opened = Date.now();
          const followed = await this.follow(streamUrl);
          if (followed === "unavailable") await this.sleep(this.o.pollIntervalMs);
          else if (Date.now() - opened < SHORT_STREAM_MS)
            await this.sleep(backoffMs(failures++, this.o.retry, this.random));
          else failures = 0;
        } else {
          failures = 0;
          await this.sleep(this.o.pollIntervalMs);
        }
      } catch (err) {
        if (this.stopped) break;
        const error = err instanceof Error ? err : new Error(String(err));
        this.events.unreachable(error, error instanceof SyncError && error.refused);
        await this.sleep(backoffMs(failures++, this.o.retry, this.random));
      }
    }
  }

  /** Fetches the snapshot (at least `minVersion` when known to exist); returns the stream URL it gave. */
  private async refresh(minVersion: number): Promise<string | undefined> {
    const url = new URL(`${this.o.baseUrl.replace(/\/+$/, "")}/sdk/v1/snapshot`);
    if (minVersion > 0) url.searchParams.set("flagConfigEtag", String(minVersion));
    const headers: Record<string, string> = { Authorization: `Bearer ${this.o.sdkKey}`, Accept: "application/json" };
    if (this.etag) headers["If-None-Match"] = this.etag;
    const res = await this.request(url.toString(), { headers });
    const streamUrl = res.headers.get("x-edgeflags-stream") ?? undefined;
    if (res.status === 200) {
      const body = asSnapshotBody(await this.read(res));
      if (!body) throw new SyncError("the snapshot answer is not a snapshot", 200);
      if (body.version >= this.version) {
        this.version = body.version;
        this.etag = res.headers.get("etag");
      }
      this.events.snapshot(body, res.headers.get("etag"));
    } else if (res.status === 404) {
      await res.body?.cancel();
      this.events.unpublished();
    } else if (res.status !== 304) {
      const text = await res.text().catch(() => "");
      throw new SyncError(`GET /sdk/v1/snapshot answered ${res.status}: ${text.slice(0, 200)}`, res.status);
    }
    this.events.reachable();
    return streamUrl;
  }

  /**
   * Follows the change stream until it ends ("ended"), or answers "unavailable" when it will not
   * open (an HTTP refusal: poll instead). Throws when the server cannot be reached or a refetch
   * fails, so the loop reports it and backs off.
   */
  private async follow(url: string): Promise<"ended" | "unavailable"> {
    const abort = (this.abort = new AbortController());
    let idle: ReturnType<typeof setTimeout> | undefined;
    const resetIdle = () => {
      if (idle !== undefined) clearTimeout(idle);
      idle = unref(
        setTimeout(
          () => abort.abort(new SyncError(`the change stream was silent for ${this.o.streamIdleMs} ms`)),
          this.o.streamIdleMs,
        ),
      );
    };
    try {
      resetIdle();
      const res = await this.o.fetch(url, { headers: { Accept: "text/event-stream" }, signal: abort.signal });
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        return "unavailable";
      }
      this.events.reachable();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.stopped) return "ended";
        resetIdle();
        for (const data of parser.push(decoder.decode(value, { stream: true }))) {
          const version = announcedVersion(data);
          if (version > this.version) await this.refresh(version);
        }
      }
    } catch (err) {
      if (this.stopped) return "ended";
      throw abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : err;
    } finally {
      if (idle !== undefined) clearTimeout(idle);
      abort.abort();
    }
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.o.fetch(url, { ...init, signal: AbortSignal.timeout(this.o.requestTimeoutMs) });
    } catch (err) {
      throw new SyncError(`${url.split("?")[0]}: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private async read(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch (err) {
      throw new SyncError(`the snapshot answer did not parse: ${(err as Error)?.message ?? String(err)}`, res.status);
    }
  }

  /** Waits `ms`, or less when stopped. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = unref(setTimeout(done, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
