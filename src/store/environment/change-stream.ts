/**
 * The change stream's store end: relays (src/edge/stream-hub.ts) hold a hibernatable WebSocket to
 * this object and are told each version once its pointer is in KV.
 * @module
 */
import { SUBSCRIBE_PATH, type VersionMessage } from "../../core/wire/store-rpc";
import { liveMeta } from "./liveness";
import type { Sql } from "../sql";

export class ChangeStream {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sql: Sql,
  ) {}

  /** A relay's subscription: a WebSocket upgrade on SUBSCRIBE_PATH of a live environment. */
  subscribe(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname !== SUBSCRIBE_PATH)
      return Response.json({ error: { code: "NOT_FOUND", message: "unknown path" } }, { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "UPGRADE_REQUIRED", message: "expected a WebSocket upgrade" } },
        { status: 426 },
      );
    }
    const live = liveMeta(this.sql);
    if (!live.ok)
      return Response.json({ error: { code: "NOT_FOUND", message: "unknown environment" } }, { status: 404 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    // Tell the new subscriber where KV stands now (a resync: every relay reconnects at once after a
    // deploy); later changes arrive as they are published.
    const published = live.value.publishedVersion;
    if (published > 0)
      server.send(JSON.stringify({ type: "version", version: published, resync: true } satisfies VersionMessage));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** After the snapshot of `version` is in KV (its root and chunks): a subscriber reads it by version, ahead of the pointer. */
  published(version: number): void {
    const text = JSON.stringify({ type: "version", version } satisfies VersionMessage);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        /* closing socket: it will be cleaned up */
      }
    }
  }

  sockets(): number {
    return this.ctx.getWebSockets().length;
  }

  /** The environment is gone: every subscriber is told so by the close. */
  closeAll(): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "environment deleted");
      } catch {
        /* already closed */
      }
    }
  }

  message(ws: WebSocket, message: string | ArrayBuffer): void {
    if (message === "ping") ws.send("pong");
    else if (typeof message === "string" && message.includes('"ping"')) ws.send('{"type":"pong"}');
  }

  close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      /* the runtime already answered the close */
    }
  }
}
