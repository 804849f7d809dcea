/**
 * Vitest global setup of the workers project: webhook receivers on 127.0.0.1 that misbehave the
 * ways real ones do, so delivery is tested against the runtime's own network errors (a TLS
 * failure inside workerd is not a thrown TypeError a stub can imitate). What each one does and
 * how tests reach them: webhook-receivers-contract.ts.
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { TestProject } from "vitest/node";
import type { Seen } from "./webhook-receivers-contract";

const listen = (server: HttpServer | NetServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  };
  const record = (receiver: Seen["receiver"], req?: IncomingMessage) =>
    seen.push({
      receiver,
      at: Date.now(),
      ...(req ? { path: req.url, id: String(req.headers["webhook-id"] ?? "") } : {}),
    });

  const ok = createHttpServer((req, res) => {
    if (req.method === "GET" && req.url === "/seen")
      return res.setHeader("content-type", "application/json").end(JSON.stringify(seen));
    req.resume().on("end", () => {
      record("ok", req);
      res.end();
    });
  });
  const okPort = await listen(ok);
  const redirect = createHttpServer((req, res) => {
    req.resume().on("end", () => {
      record("redirect", req);
      res.writeHead(302, { location: `http://127.0.0.1:${okPort}/followed` }).end();
    });
  });
  const reset = createHttpServer((req) => {
    record("reset", req);
    req.socket.resetAndDestroy();
  });
  const tls = createNetServer((s) => {
    record("tls");
    s.end("this is not TLS\r\n\r\n");
  });
  const hang = createNetServer(() => record("hang"));
  for (const s of [ok, redirect, reset, tls, hang]) s.on("connection", track);

  project.provide("webhookReceivers", {
    ok: okPort,
    redirect: await listen(redirect),
    reset: await listen(reset),
    tls: await listen(tls),
    hang: await listen(hang),
  });
  return async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([ok, redirect, reset, tls, hang].map((s) => new Promise((r) => s.close(r))));
  };
}
