/**
 * Per isolate and environment, ONE upstream WebSocket for all of the isolate's SSE clients of that
 * environment: opened by the first client, closed after the last, to one relay shard
 * (src/store/relay/relay.ts) picked by a hash of the colo (or, where the runtime reports none, of this
 * isolate's id) among STREAM_RELAY_SHARDS.
 *
 * Workers allow a WebSocket to be touched only from the request that opened it; other requests
 * (every later client) must not send on it, close it, or even read its state. So:
 * - version messages arrive on the socket's own event handlers and are handed to every client's
 *   stream (writing to another request's JS stream is allowed);
 * - the socket work that must happen after its opener may have left — reporting the client count,
 *   dropping clients whose request is gone, closing the socket once no client is left — is done
 *   when the relay's tick arrives on it;
 * - a lost socket is replaced from whichever client's heartbeat runs next (in that client's own
 *   request), with backoff; the relay then sends its version, and every client is told to refetch.
 *
 * No herds. A version message marked `resync` (sent on a reconnect of this hop or one above it:
 * a store or relay deploy drops every socket at the same moment) reaches each client after its
 * own random delay within STREAM_RESYNC_SPREAD_SECONDS (default 5 s), so 2,000 browsers do not
 * refetch in the same millisecond; a new publish reaches every client at once, and overtakes a
 * resync still waiting. A client joining gets the hub's version at once: joins are spread already
 * (each stream asks its browser for its own jittered `retry:` delay, change-stream.ts).
 * @module
 */
import { hash64 } from "../core/canonical";
import type { EdgeBindings as Env } from "./bindings";
import {
  GONE_CLOSE_CODE,
  heartbeatMs,
  parseStreamMessage,
  reconnectDelayMs,
  relayName,
  relayShards,
  resyncSpreadMs,
  SUBSCRIBE_PATH,
} from "../core/wire/stream-protocol";

/** What the hub needs of one SSE client (change-stream.ts). */
export interface HubClient {
  /**
   * Tells the client a version exists (an OFREP refetch event), after `delayMs` if given (a
   * resync); false when the client is gone.
   */
  notify(version: number, delayMs?: number): boolean;
  /** The newest version it was told of, or will be once a delayed notify is due (0: none). */
  readonly version: number;
  /** Ends the client's stream (the environment is gone). */
  end(): void;
  /**
   * Whether the client's own heartbeat ran recently. When a browser disconnects, the runtime may
   * tear its request down without calling the stream's `cancel()` (its timers stop with it), so
   * the hub drops clients whose heartbeat went silent.
   */
  alive(now: number): boolean;
}

export type StreamBindings = Pick<
  Env,
  "STREAM_RELAY" | "STREAM_RELAY_SHARDS" | "STREAM_HEARTBEAT_SECONDS" | "STREAM_RESYNC_SPREAD_SECONDS"
>;

export type Joined = "joined" | "unavailable";

/** A relay tick at least every 5 s (heartbeat in tests): silence three times that long means the socket is dead. */
function silenceMs(env: StreamBindings): number {
  return Math.max(2_000, 3 * Math.min(5_000, heartbeatMs(env)));
}

/** A relay connect that has not settled by then belongs to a request that is gone. */
const CONNECT_OVERDUE_MS = 10_000;

let isolateId: string | undefined;
/** Random per isolate, made on first use (no randomness at module scope in Workers). */
function thisIsolate(): string {
  return (isolateId ??= crypto.randomUUID());
}

/** The relay shard for this isolate: colo when known, so one colo's isolates share a relay near them. */
export function shardOf(key: string, shards: number): number {
  return parseInt(hash64(key).slice(0, 8), 16) % shards;
}

export class EnvironmentHub {
  readonly clients = new Set<HubClient>();
  private socket: WebSocket | null = null;
  private connecting: Promise<Joined> | null = null;
  private connectingSince = 0;
  /** Last version the relay announced (0: none yet). */
  version = 0;
  private attempt = 0;
  private retryAt = 0;
  private lastHeard = 0;

  constructor(
    readonly environment: string,
    private readonly env: StreamBindings,
    private readonly shardKey: string,
    private readonly onVersion: (version: number) => void,
    private readonly forget: (hub: EnvironmentHub) => void,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether an upstream socket is open (tests and stats). */
  get connected(): boolean {
    return this.socket !== null;
  }

  /**
   * Adds a client; the first one opens the upstream socket (in its own request). "unavailable"
   * only when no socket could be opened and no other client is waiting for one.
   */
  async join(client: HubClient): Promise<Joined> {
    // Never await a connect another request started (load-marks.ts says why): while one is under
    // way the client joins, and hears the version once that socket delivers it.
    if (!this.socket && this.clients.size === 0 && !this.connectingNow(Date.now())) {
      const opened = await this.open();
      if (opened !== "joined" && this.clients.size === 0) {
        this.forget(this);
        return opened;
      }
    }
    this.clients.add(client);
    // What the hub knows already; a newer version reaches every client as it arrives.
    if (this.version > 0) client.notify(this.version);
    return "joined";
  }

  /** A client went away. The last one closes the socket (here if this request opened it, else on the next tick). */
  leave(client: HubClient): void {
    this.clients.delete(client);
    if (this.clients.size > 0) return;
    const ws = this.socket;
    try {
      ws?.close(1000, "no clients");
      this.socket = null;
      this.forget(this);
    } catch {
      // Opened by another request: closed when the next tick arrives on it.
    }
  }

  /**
   * From each client's heartbeat, in that client's request. A client the hub dropped (its
   * heartbeat came late on a busy isolate, so a tick took it for gone) or one that missed a
   * version is mended here: it is (re)added and told the newest version — a missed event costs at
   * most one heartbeat of delay, never the rest of the stream. Then a lost or silent socket is
   * replaced once due.
   */
  heartbeat(client: HubClient, now = Date.now()): void {
    this.clients.add(client);
    if (this.version > client.version) client.notify(this.version);
    if (this.socket && now - this.lastHeard > silenceMs(this.env)) {
      // Silent for three ticks: the relay or the path to it is gone. It cannot be closed from
      // here (another request's socket); it dies with that request or its peer.
      this.socket = null;
      this.retryAt = now;
    }
    if (!this.socket && now >= this.retryAt) void this.open();
  }

  /** A connect in progress; one older than {@link CONNECT_OVERDUE_MS} died with its request. */
  private connectingNow(now: number): boolean {
    return this.connecting !== null && now - this.connectingSince < CONNECT_OVERDUE_MS;
  }

  private open(): Promise<Joined> {
    const now = Date.now();
    if (this.connectingNow(now)) return this.connecting!;
    this.connectingSince = now;
    const connecting = this.connect().finally(() => {
      if (this.connecting === connecting) this.connecting = null;
    });
    this.connecting = connecting;
    return connecting;
  }

  private async connect(): Promise<Joined> {
    const shard = shardOf(this.shardKey, relayShards(this.env));
    try {
      const relay = this.env.STREAM_RELAY.get(this.env.STREAM_RELAY.idFromName(relayName(this.environment, shard)));
      const res = await relay.fetch(
        `http://relay${SUBSCRIBE_PATH}?environment=${encodeURIComponent(this.environment)}`,
        { headers: { Upgrade: "websocket" } },
      );
      const ws = res.webSocket;
      if (!ws) throw new Error(`relay answered ${res.status}`);
      ws.accept();
      this.socket = ws;
      this.attempt = 0;
      this.lastHeard = Date.now();
      ws.addEventListener("message", (event) => this.onMessage(ws, event.data));
      ws.addEventListener("close", (event) => this.onClose(ws, event.code));
      ws.addEventListener("error", () => this.onClose(ws, 1006));
      return "joined";
    } catch (err) {
      console.error(
        `change stream ${this.environment}: relay connect failed`,
        err instanceof Error ? err.message : err,
      );
      this.retryAt = Date.now() + reconnectDelayMs(this.attempt++);
      return "unavailable";
    }
  }

  /** Runs in the request that opened `ws`: the only place that may send on it or close it. */
  private onMessage(ws: WebSocket, data: unknown): void {
    if (ws !== this.socket) return;
    this.lastHeard = Date.now();
    const msg = parseStreamMessage(data);
    if (msg?.type === "version") {
      this.version = msg.version;
      this.onVersion(msg.version);
      this.announce(msg.version, msg.resync);
    } else if (msg?.type === "tick") {
      const now = Date.now();
      for (const c of this.clients) if (!c.alive(now)) this.clients.delete(c);
      if (this.clients.size === 0) {
        this.socket = null;
        this.forget(this);
        try {
          ws.close(1000, "no clients");
        } catch {
          /* already closing */
        }
        return;
      }
      try {
        ws.send(JSON.stringify({ type: "clients", count: this.clients.size }));
      } catch {
        /* closing */
      }
    }
  }

  /** A publish: every client at once. A resync: each client after its own delay within the spread. */
  announce(version: number, resync: boolean): void {
    const spread = resync ? resyncSpreadMs(this.env) : 0;
    for (const c of this.clients) {
      const delay = spread > 0 ? Math.floor(this.random() * spread) : 0;
      if (!c.notify(version, delay)) this.clients.delete(c);
    }
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.socket) return;
    this.socket = null;
    if (code === GONE_CLOSE_CODE) {
      for (const c of this.clients) c.end();
      this.clients.clear();
    }
    if (this.clients.size === 0) return this.forget(this);
    // Reconnect now if this request still may; otherwise the next client heartbeat does.
    this.retryAt = Date.now();
    void this.open();
  }
}

const hubs = new Map<string, EnvironmentHub>();

/** The isolate's hub for an environment (created on first use). */
export function hubFor(
  env: StreamBindings,
  environment: string,
  colo: string | undefined,
  onVersion: (version: number) => void,
): EnvironmentHub {
  let hub = hubs.get(environment);
  if (!hub) {
    hub = new EnvironmentHub(environment, env, colo ?? thisIsolate(), onVersion, (h) => {
      if (hubs.get(environment) === h) hubs.delete(environment);
    });
    hubs.set(environment, hub);
  }
  return hub;
}

/** This isolate's hubs: SSE clients and whether the upstream socket is open (tests). */
export function hubStats(): { environment: string; clients: number; connected: boolean }[] {
  return [...hubs.values()].map((h) => ({
    environment: h.environment,
    clients: h.clients.size,
    connected: h.connected,
  }));
}
