/**
 * The OFREP change stream: Server-Sent Events from the Worker, fed by the environment's Durable
 * Object over a hibernatable WebSocket.
 *
 * Trade-off: the Worker holds the long-lived SSE response and the DO holds only a WebSocket it
 * accepted with the hibernation API. A DO that held SSE responses itself would stay in memory
 * (and billed) for as long as any browser is connected; a hibernatable WebSocket lets it sleep
 * between changes, and an idle SSE connection in a Worker costs no CPU. The cost is one WebSocket
 * per SSE client between the Worker and the DO.
 *
 * Each `{"type":"version","version":N}` from the DO becomes one OFREP event
 * `data: {"type":"refetchEvaluation","etag":"N"}` (event `message`, id N). The provider then
 * re-fetches with `?flagConfigEtag=N`, and {@link onVersion} has already told the snapshot cache
 * that version N exists, so that request reads `snap:<env>:N` instead of a lagging pointer.
 *
 * Heartbeat comments every {@link HEARTBEAT_MS} keep proxies (100 s idle limit) from closing the
 * connection and, because `cancel()` only fires on a write after the client is gone, they are how
 * a disconnect is noticed and the DO socket closed. A `TransformStream` body never learns of the
 * disconnect and would leak the DO socket; hence a `ReadableStream` with `cancel()`.
 * @module
 */
import type { VersionMessage } from "../store/api";

export const HEARTBEAT_MS = 25_000;

/** STREAM_HEARTBEAT_SECONDS (tests shorten it), else {@link HEARTBEAT_MS}. */
export function heartbeatMs(env: { STREAM_HEARTBEAT_SECONDS?: string }): number {
  const seconds = Number(env.STREAM_HEARTBEAT_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(50, seconds * 1000) : HEARTBEAT_MS;
}
/** Suggested EventSource reconnect delay. */
export const RETRY_MS = 3_000;

/** The part of a WebSocket the relay uses (a real one from `fetch`, or a fake in tests). */
export interface SocketLike {
  accept(): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close" | "error", listener: (event: unknown) => void): void;
}

export interface RelayOptions {
  socket: SocketLike;
  onVersion?: (version: number) => void;
  heartbeatMs?: number;
  /** Unix ms when the stream's token expires: the stream ends at the first heartbeat after it. */
  expiresAt?: number;
  /** Asked at each heartbeat (the key may have been revoked): false ends the stream. */
  stillAllowed?: () => Promise<boolean>;
}

export function refetchEvent(version: number): string {
  return `id: ${version}\nevent: message\ndata: ${JSON.stringify({ type: "refetchEvaluation", etag: String(version) })}\n\n`;
}

function parseVersion(data: unknown): number | null {
  if (typeof data !== "string") return null;
  try {
    const msg = JSON.parse(data) as Partial<VersionMessage>;
    return msg && msg.type === "version" && Number.isInteger(msg.version) ? (msg.version as number) : null;
  } catch {
    return null;
  }
}

/** A `text/event-stream` body relaying the socket's version messages until either side goes away. */
export function relayVersions(options: RelayOptions): ReadableStream<Uint8Array> {
  const { socket, onVersion } = options;
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const shut = () => {
    if (closed) return false;
    closed = true;
    if (timer !== undefined) clearInterval(timer);
    return true;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          if (shut()) try { socket.close(1000, "client gone"); } catch { /* already closed */ }
        }
      };
      socket.accept();
      socket.addEventListener("message", (event) => {
        const version = parseVersion(event.data);
        if (version === null) return;
        onVersion?.(version);
        write(refetchEvent(version));
      });
      const end = () => {
        // The DO went away (deploy, eviction of a non-hibernating socket): end the stream so the
        // EventSource reconnects after `retry` and the provider re-fetches.
        if (shut()) try { controller.close(); } catch { /* already closed */ }
      };
      socket.addEventListener("close", end);
      socket.addEventListener("error", end);
      write(`retry: ${RETRY_MS}\n: connected\n\n`);
      const revoke = () => {
        if (shut()) {
          try { socket.close(1000, "stream no longer authorized"); } catch { /* already closed */ }
          try { controller.close(); } catch { /* already closed */ }
        }
      };
      timer = setInterval(() => {
        if (options.expiresAt !== undefined && Date.now() >= options.expiresAt) return revoke();
        write(": ping\n\n");
        void options.stillAllowed?.().then((ok) => { if (!ok) revoke(); });
      }, options.heartbeatMs ?? HEARTBEAT_MS);
    },
    cancel() {
      if (shut()) try { socket.close(1000, "client gone"); } catch { /* already closed */ }
    },
  });
}

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
} as const;
