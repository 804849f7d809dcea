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
 * @module
 */
import type { HubClient } from "./stream-hub";

/** Suggested EventSource reconnect delay. */
export const RETRY_MS = 3_000;

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
}

const encoder = new TextEncoder();

/**
 * A `text/event-stream` body and the hub client that feeds it.
 *
 * The hub calls {@link HubClient.notify} from the request that owns the upstream socket, not this
 * one, and Workers forbid one request's code to settle another request's stream reads. So notify
 * only queues the event and settles a promise this stream created in its own request; the runtime
 * runs the continuation in this request, and that is where the event is written.
 */
export function sseStream(o: StreamOptions): { body: ReadableStream<Uint8Array>; client: HubClient } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let timer: ReturnType<typeof setInterval> | undefined;
  let open = true;
  let ending = false;
  let lastBeat = Date.now();
  /** Events queued by the hub, written by {@link deliver} in this request. */
  let queued: number[] = [];
  let wake: (() => void) | null = null;
  const kick = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const finish = (close: boolean) => {
    if (!open) return;
    open = false;
    if (timer !== undefined) clearInterval(timer);
    kick();
    o.onGone(client);
    if (close) try { controller.close(); } catch { /* already closed */ }
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
  const deliver = async () => {
    while (open) {
      await new Promise<void>((resolve) => (wake = resolve));
      if (ending) return finish(true);
      const versions = queued;
      queued = [];
      for (const v of versions) if (!write(refetchEvent(v))) return;
    }
  };
  let told = 0;
  const client: HubClient = {
    get version() {
      return told;
    },
    notify: (version) => {
      if (!open) return false;
      told = Math.max(told, version);
      queued.push(version);
      kick();
      return true;
    },
    end: () => {
      ending = true;
      kick();
    },
    // Three heartbeats (and at least 2 s) of silence: this request is gone.
    alive: (now) => open && now - lastBeat < Math.max(3 * o.heartbeatMs, 2_000),
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      write(`retry: ${RETRY_MS}\n: connected\n\n`);
      void deliver();
      timer = setInterval(() => {
        lastBeat = Date.now();
        if (lastBeat >= o.expiresAt) return finish(true);
        if (!write(": ping\n\n")) return;
        void o.stillAllowed().then((ok) => { if (!ok) finish(true); });
        o.onHeartbeat();
      }, o.heartbeatMs);
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
