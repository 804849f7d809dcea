/**
 * The change-stream fan-out across real requests, against `npm start` (wrangler dev): each SSE
 * client is its own request there, so this is where "one upstream socket per isolate, shared by
 * every client" meets the runtime rule that a socket belongs to the request that opened it (the
 * workers-runtime tests in test/edge/fan-out.worker.test.ts run their clients in one request).
 * Heartbeats run every second here so that clients that left are noticed within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startDevServer, type DevServer, SERVER_HOOK_TIMEOUT } from "../support/wrangler-dev";

const ENV = "fanout";
const flag = (on: boolean) => ({
  key: "banner",
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: on ? "on" : "off",
  clientVisible: true,
});

/** One SSE client over fetch, recording the refetch etags it receives (whole events only). */
function sse(url: string) {
  const abort = new AbortController();
  const etags: string[] = [];
  const errors: unknown[] = [];
  const done = (async () => {
    const res = await fetch(url, { signal: abort.signal });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const events = text.split("\n\n");
      text = events.pop()!;
      for (const event of events) {
        const data = /^data: (.*)$/m.exec(event);
        if (data) etags.push(JSON.parse(data[1]).etag);
      }
    }
  })().catch((err) => {
    if (!abort.signal.aborted) errors.push(err);
  });
  return { etags, errors, close: () => abort.abort(), done };
}

describe("change stream fan-out through npm start", { timeout: 60_000 }, () => {
  let server: DevServer;
  let url: string;
  beforeAll(async () => {
    server = await startDevServer({ env: { EDGEFLAGS_WRANGLER_ARGS: "--var STREAM_HEARTBEAT_SECONDS:1" } });
    const key = await server.mintKey(ENV, "client");
    await server.admin("PUT", `/environments/${ENV}/flags/banner`, flag(false));
    const bulk = (await (await server.ofrep(key, undefined, {})).json()) as { eventStreams: { url: string }[] };
    url = bulk.eventStreams[0].url;
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => server?.stop(), SERVER_HOOK_TIMEOUT);

  const counts = async () =>
    (await server.admin("GET", `/environments/${ENV}/streams`)).json as {
      clients: number;
      sockets: number;
      relays: number;
    };
  const write = async (on: boolean) =>
    String((await server.admin("PUT", `/environments/${ENV}/flags/banner`, flag(on))).json.version);

  // SKIPPED, known bug (issue 8 stays open): on a fresh clone, some of the clients in separate
  // requests do not receive the first refetch event within 15 s (failed in 2 of 4 runs). The
  // workers-runtime fan-out tests pass; the cross-request path through `npm start` needs a fix.
  it("clients in separate requests share one socket, keep hearing changes after the socket's opener leaves, and the last one closes it", async () => {
    const first = sse(url);
    await eventually(async () => (first.etags.length > 0 ? true : undefined), 10_000);
    const others = Array.from({ length: 4 }, () => sse(url));
    expect(
      await eventually(async () => {
        const c = await counts();
        return c.clients === 5 ? c : undefined;
      }, 15_000),
    ).toEqual({ clients: 5, sockets: 1, relays: 1 });

    const v1 = await write(true);
    await eventually(async () => ([first, ...others].every((c) => c.etags.includes(v1)) ? true : undefined), 15_000);

    // The request that opened the shared socket goes away; the others still hear the next change.
    first.close();
    const v2 = await write(false);
    await eventually(async () => (others.every((c) => c.etags.includes(v2)) ? true : undefined), 15_000);
    expect(
      await eventually(async () => {
        const c = await counts();
        return c.clients === 4 ? c : undefined;
      }, 15_000),
    ).toEqual({ clients: 4, sockets: 1, relays: 1 });

    for (const c of others) c.close();
    expect(
      await eventually(async () => {
        const c = await counts();
        return c.sockets === 0 ? c : undefined;
      }, 20_000),
    ).toEqual({ clients: 0, sockets: 0, relays: 0 });
  });
});
