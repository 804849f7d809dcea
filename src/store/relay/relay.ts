/**
 * One relay shard of an environment's change stream (`STREAM_RELAY.idFromName("<env>#<shard>")`):
 * it holds the WebSockets of the isolates assigned to it (accepted with the hibernation API) and
 * one WebSocket of its own to the environment's Durable Object, and forwards each version message
 * down. So the environment DO holds at most K sockets (K = STREAM_RELAY_SHARDS) however many
 * browsers are connected, stays hibernated between changes, and a publish costs it K sends.
 *
 * Trade-off: a relay with an upstream socket open cannot hibernate itself (an outgoing WebSocket
 * keeps a Durable Object in memory), so up to K relays per environment stay awake while any
 * isolate of their shard streams; they do no work but forwarding and a tick every few seconds.
 *
 * Surviving the other side going away (protocol in core/wire/stream-protocol.ts):
 * - upstream lost (environment DO restarted, deploy): reconnect with backoff while isolates
 *   remain; the environment DO sends its version on connect (a resync) and the relay forwards it
 *   as one, so every client is told to refetch, spread over a few seconds by its isolate;
 * - environment gone (subscribe answers 404): isolate sockets are closed with GONE_CLOSE_CODE;
 * - the relay itself restarted: isolates reconnect (stream-hub.ts) and get its version once the
 *   upstream answers;
 * - last isolate gone: the upstream socket is closed and the relay goes idle.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import { ENVIRONMENT_PATTERN } from "../../core/wire/kv-layout";
import type { StoreBindings as Env } from "../bindings";
import {
  GONE_CLOSE_CODE,
  heartbeatMs,
  parseStreamMessage,
  reconnectDelayMs,
  SUBSCRIBE_PATH,
  TICK_MESSAGE,
  versionMessage,
  type RelayStats,
} from "../../core/wire/stream-protocol";

/** Per isolate socket, kept across hibernation. */
interface Attachment {
  environment: string;
  /** SSE clients the isolate last reported. */
  clients: number;
}

/** Ticks to isolates at least this often (they report counts and close idle sockets on a tick). */
const MAX_TICK_MS = 5_000;

export class StreamRelay extends DurableObject<Env> {
  private environment: string | undefined;
  private upstream: WebSocket | null = null;
  private connecting = false;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Last version heard from upstream (0: none yet). */
  private version = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== SUBSCRIBE_PATH)
      return Response.json({ error: { code: "NOT_FOUND", message: "unknown path" } }, { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "UPGRADE_REQUIRED", message: "expected a WebSocket upgrade" } },
        { status: 426 },
      );
    }
    const environment = url.searchParams.get("environment") ?? "";
    if (!ENVIRONMENT_PATTERN.test(environment))
      return Response.json({ error: { code: "INVALID", message: "bad environment name" } }, { status: 400 });
    this.environment = environment;
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ environment, clients: 0 } satisfies Attachment);
    // What this relay knows now (a resync for the reconnecting isolate); a relay that has not
    // heard from upstream yet sends it when it does.
    if (this.version > 0) server.send(versionMessage(this.version, true));
    this.ensureUpstream();
    this.ensureTicker();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const msg = parseStreamMessage(message);
    if (msg?.type === "clients") {
      const att = ws.deserializeAttachment() as Attachment;
      ws.serializeAttachment({ ...att, clients: msg.count } satisfies Attachment);
    }
    // Woken after an eviction (in-memory state gone): resume forwarding.
    this.ensureUpstream();
    this.ensureTicker();
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code, reason);
    } catch {
      /* the runtime already answered the close */
    }
    this.goIdleIfAlone();
  }

  override async webSocketError(): Promise<void> {
    this.goIdleIfAlone();
  }

  async stats(): Promise<RelayStats> {
    const isolates = this.isolates();
    let clients = 0;
    for (const ws of isolates) clients += (ws.deserializeAttachment() as Attachment | null)?.clients ?? 0;
    return { isolates: isolates.length, clients, upstream: this.upstream !== null };
  }

  // ---- internals ------------------------------------------------------------------------------

  private isolates(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  private environmentName(): string | undefined {
    if (this.environment) return this.environment;
    const att = this.ctx.getWebSockets()[0]?.deserializeAttachment() as Attachment | undefined;
    return (this.environment = att?.environment);
  }

  private ensureUpstream(): void {
    if (this.upstream || this.connecting || this.retry !== undefined || this.isolates().length === 0) return;
    void this.subscribeUpstream();
  }

  private async subscribeUpstream(): Promise<void> {
    const environment = this.environmentName();
    if (!environment) return;
    this.connecting = true;
    try {
      const stub = this.env.ENV_STORE.get(this.env.ENV_STORE.idFromName(environment));
      const res = await stub.fetch(`http://do${SUBSCRIBE_PATH}`, { headers: { Upgrade: "websocket" } });
      if (res.status === 404) {
        // Deleted (or never created): tell the isolates to end their streams, not to retry.
        for (const ws of this.isolates())
          try {
            ws.close(GONE_CLOSE_CODE, "unknown environment");
          } catch {
            /* closing */
          }
        return;
      }
      const ws = res.webSocket;
      if (!ws) throw new Error(`subscribe answered ${res.status}`);
      ws.accept();
      this.upstream = ws;
      this.attempt = 0;
      ws.addEventListener("message", (event) => {
        const msg = parseStreamMessage(event.data);
        if (msg?.type === "version") this.forward(msg.version, msg.resync);
      });
      const lost = () => {
        if (this.upstream !== ws) return;
        this.upstream = null;
        this.reconnectLater();
      };
      ws.addEventListener("close", lost);
      ws.addEventListener("error", lost);
      this.goIdleIfAlone();
    } catch (err) {
      console.error(`relay ${environment}: upstream connect failed`, err instanceof Error ? err.message : err);
      this.reconnectLater();
    } finally {
      this.connecting = false;
    }
  }

  private reconnectLater(): void {
    if (this.retry !== undefined || this.isolates().length === 0) return;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.ensureUpstream();
      },
      reconnectDelayMs(this.attempt++),
    );
  }

  /** Always forwarded, even an unchanged version: after a reconnect it is the "refetch" signal (a resync stays one). */
  private forward(version: number, resync: boolean): void {
    this.version = version;
    const text = versionMessage(version, resync);
    for (const ws of this.isolates())
      try {
        ws.send(text);
      } catch {
        /* closing: cleaned up */
      }
  }

  private ensureTicker(): void {
    if (this.ticker !== undefined) return;
    this.ticker = setInterval(
      () => {
        const isolates = this.isolates();
        if (isolates.length === 0) return this.goIdleIfAlone();
        for (const ws of isolates)
          try {
            ws.send(TICK_MESSAGE);
          } catch {
            /* closing */
          }
      },
      Math.min(MAX_TICK_MS, heartbeatMs(this.env)),
    );
  }

  /** No isolate left: close the upstream socket and stop ticking, so the relay can be evicted. */
  private goIdleIfAlone(): void {
    if (this.isolates().length > 0) return;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const up = this.upstream;
    this.upstream = null;
    if (up)
      try {
        up.close(1000, "no subscribers");
      } catch {
        /* already closed */
      }
  }
}
