/**
 * The OFREP change stream as one browser sees it: a Server-Sent Events body fed by the isolate's
 * hub for the environment (stream-hub.ts), which holds the one upstream socket all of the
 * isolate's clients share.
 *
 * Each version announced upstream becomes one OFREP event
 * `data: {"type":"refetchEvaluation","etag":"N"}` (event `message`, id N). The provider then
 * re-fetches with `?flagConfigEtag=N`, and the hub has already told the snapshot cache that
 * version N exists, so that request reads `snap:<env>:N` instead of a lagging pointer. A client
 * joining a hub that knows a version gets it at once, so one that missed changes while connecting
 * or reconnecting (`Last-Event-ID` or not) re-fetches at once (a 304 when nothing changed).
 *
 * Each client has its own heartbeat (every STREAM_HEARTBEAT_SECONDS, default 25 s): a comment that
 * keeps proxies (100 s idle limit) from closing the connection and makes a disconnect noticed
 * (`cancel()` only fires on a write after the client is gone; a `TransformStream` body never
 * learns of it), plus the checks that end a stream: its token expired, its key no longer valid.
 * The timer also keeps the client's request alive in the runtime (a response waiting only on
 * another request's events would be cancelled as hung) and gives the hub a turn to replace a
 * lost socket from this request.
 *
 * No herds. Each stream suggests its own reconnect delay (`retry:`, drawn in
 * [RETRY_MIN_MS, RETRY_MIN_MS + RETRY_SPREAD_MS)), so the streams an edge deploy ends all at once
 * come back spread over seconds, not in the same instant. A refetch the hub sends with a delay (a
 * resync after a reconnect upstream, stream-hub.ts) waits in this stream, on a timer of this
 * request; a version told at once (a publish) goes out at once and drops a waiting resync it
 * supersedes. Events reach a stream at most {@link DELIVER_POLL_MS} after the hub has them.
 * @module
 */
import type { HubClient } from "./stream-hub";

/** Shortest suggested EventSource reconnect delay. */
export const RETRY_MIN_MS = 2_000;
/** Width of the window a stream's suggested reconnect delay is drawn from. */
export const RETRY_SPREAD_MS = 6_000;

/** One stream's `retry:` value: random in [RETRY_MIN_MS, RETRY_MIN_MS + RETRY_SPREAD_MS). */
export function retryMs(random: () => number = Math.random): number {
  return RETRY_MIN_MS + Math.floor(random() * RETRY_SPREAD_MS);
}

export function refetchEvent(version: number): string {
  return `id: ${version}\nevent: message\ndata: ${JSON.stringify({ type: "refetchEvaluation", etag: String(version) })}\n\n`;
}

export interface StreamOptions {
  heartbeatMs: number;
  /** Unix ms when the stream's token expires: the stream ends at the first heartbeat after it. */
  expiresAt: number;
  /** Asked at each heartbeat (the key may have been revoked): false ends the stream. */
  stillAllowed: () => Promise<boolean>;
  /** Each heartbeat, after the checks. */
  onHeartbeat: () => void;
  /** The client is gone or its stream ended. */
  onGone: (client: HubClient) => void;
  /** Draws the stream's `retry:` delay (tests pin it). */
  random?: () => number;
}

const encoder = new TextEncoder();

/**
 * How often a stream looks for events the hub queued for it (on its own timer). The hub runs in
 * the request that owns the upstream socket, so it cannot write to this stream, and settling a
 * promise this stream awaits from there is what the runtime warns about for every client whose
 * request has ended unnoticed (a disconnect is only seen at the next write): with thousands of
 * such clients between heartbeats, that flood stalled the local runtime. The hub only queues;
 * each stream delivers from its own request, at most this much later.
 */
export const DELIVER_POLL_MS = 250;

/** A `text/event-stream` body and the hub client that feeds it (see {@link DELIVER_POLL_MS}). */
export function sseStream(o: StreamOptions): { body: ReadableStream<Uint8Array>; client: HubClient } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let timer: ReturnType<typeof setInterval> | undefined;
  let open = true;
  let ending = false;
  let lastBeat = Date.now();
  /** Events queued by the hub, written by {@link deliver} in this request. */
  let queued: number[] = [];
  /** A resync's refetch, due at `at`: replaced by a newer resync, dropped by a version told at once. */
  let later: { version: number; at: number } | null = null;
  const finish = (close: boolean) => {
    if (!open) return;
    open = false;
    if (timer !== undefined) clearInterval(timer);
    o.onGone(client);
    if (close)
      try {
        controller.close();
      } catch {
        /* already closed */
      }
  };
  const write = (text: string): boolean => {
    if (!open) return false;
    try {
      controller.enqueue(encoder.encode(text));
      return true;
    } catch {
      finish(false);
      return false;
    }
  };
  /** Runs on this request's timer: writes what the hub queued and a resync that is due. */
  const deliver = () => {
    if (!open) return;
    if (ending) return finish(true);
    if (queued.length === 0 && !(later && later.at <= Date.now())) return;
    const versions = queued;
    queued = [];
    if (later && later.at <= Date.now()) {
      versions.push(later.version);
      later = null;
    }
    for (const v of versions) if (!write(refetchEvent(v))) return;
  };
  let told = 0;
  const client: HubClient = {
    get version() {
      return told;
    },
    notify: (version, delayMs = 0) => {
      if (!open) return false;
      told = Math.max(told, version);
      if (delayMs > 0) {
        // Repeated reconnects never push a waiting refetch further out.
        const at = Date.now() + delayMs;
        later = { version, at: later ? Math.min(later.at, at) : at };
      } else {
        queued.push(version);
        if (later && later.version <= version) later = null;
      }
      return true;
    },
    end: () => {
      ending = true;
    },
    // Three heartbeats (and at least 2 s) of silence: this request is gone.
    alive: (now) => open && now - lastBeat < Math.max(3 * o.heartbeatMs, 2_000),
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      write(`retry: ${retryMs(o.random)}\n: connected\n\n`);
      // One timer per stream: it delivers what the hub queued and, once due, sends the heartbeat.
      timer = setInterval(
        () => {
          deliver();
          if (!open || Date.now() - lastBeat < o.heartbeatMs) return;
          lastBeat = Date.now();
          if (lastBeat >= o.expiresAt) return finish(true);
          if (!write(": ping\n\n")) return;
          void o.stillAllowed().then((ok) => {
            if (!ok) finish(true);
          });
          o.onHeartbeat();
        },
        Math.min(DELIVER_POLL_MS, o.heartbeatMs),
      );
    },
    cancel() {
      finish(false);
    },
  });
  return { body, client };
}

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
} as const;
