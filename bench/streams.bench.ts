/**
 * `npm run bench:streams`: change-stream fan-out through the real local server (`npm start` via
 * the e2e harness, loopback only). Opens BENCH_STREAM_CLIENTS (default 2,000) concurrent SSE
 * clients on one environment, then makes one admin write and measures:
 * - how many clients received the refetch event for the new version, and within what time of the
 *   write being sent (goal: all within 2 s);
 * - the environment DO's WebSockets (`GET …/streams` `sockets`), sampled while clients are
 *   connected and during the write (goal: ≤ K = STREAM_RELAY_SHARDS, default 16);
 * - memory per connected client: growth of the resident memory of the server's workerd processes
 *   from before the clients connected to after, divided by the clients (goal ≤ 20 KB), and, for
 *   comparison, the same growth for a bare Worker that only holds each request open (Miniflare,
 *   one workerd process, no edgeflags code): the runtime's own floor per open request.
 * Heartbeats run every 5 s here (25 s deployed) so that clients that left are noticed quickly.
 * Everything is bounded (connect batches, waits with deadlines, a global timeout) and the server
 * is stopped at the end. Last line of output: one JSON object with the figures.
 * @module
 */
import { request, Agent, type IncomingMessage } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { Miniflare } from "miniflare";
import { startDevServer, sleep, type DevServer } from "../test/support/wrangler-dev";

const CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 2000);
const BATCH = 200;
const ENV = "streams-bench";
const GLOBAL_TIMEOUT_MS = 180_000;

/** Resident memory (KiB) of every workerd process below `root`, by PID. */
function workerdRss(root: number): Map<number, number> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops++)
      if (p === root) return true;
    return false;
  };
  const rss = new Map<number, number>();
  for (const [pid, name] of names) {
    if (name !== "workerd" || !below(pid)) continue;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) rss.set(pid, Number(m[1]));
    } catch {
      // exited meanwhile
    }
  }
  return rss;
}

const total = (rss: Map<number, number>) => [...rss.values()].reduce((a, b) => a + b, 0);
const workerdRssKb = (root: number) => total(workerdRss(root));

interface Client {
  res?: IncomingMessage;
  destroy(): void;
  /** performance.now() when each etag was first seen. */
  seen: Map<string, number>;
  status?: number;
}

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** KB of workerd resident memory per open request for a Worker that only holds requests open. */
async function runtimeFloorKb(n: number): Promise<number> {
  const mf = new Miniflare({
    modules: true,
    compatibilityDate: "2026-04-20",
    port: 0,
    script: "export default { fetch: () => new Promise((r) => setTimeout(() => r(new Response('late')), 120000)) };",
  });
  const url = (await mf.ready).toString();
  const held: Client[] = [];
  try {
    await sleep(1000);
    const before = workerdRssKb(process.pid);
    for (let i = 0; i < n; i += BATCH)
      held.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, () => holdOpen(url)))));
    await sleep(3000);
    return (workerdRssKb(process.pid) - before) / n;
  } finally {
    for (const c of held) c.destroy();
    await mf.dispose();
  }
}

/** A request that is sent and left waiting (no answer expected). */
function holdOpen(url: string): Promise<Client> {
  return new Promise((resolve) => {
    const req = request(url, { agent });
    req.on("error", () => {});
    req.end(() => resolve({ seen: new Map(), destroy: () => req.destroy() }));
  });
}

function openClient(url: string): Promise<Client> {
  return new Promise((resolve) => {
    const client: Client = { seen: new Map(), destroy: () => req.destroy() };
    const req = request(url, { agent, headers: { accept: "text/event-stream" } }, (res) => {
      client.res = res;
      client.status = res.statusCode;
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = /^data: (.*)$/m.exec(event);
          if (data) {
            const etag = String(JSON.parse(data[1]).etag);
            if (!client.seen.has(etag)) client.seen.set(etag, performance.now());
          }
        }
      });
      res.on("error", () => {});
      resolve(client);
    });
    req.on("error", () => resolve(client));
    req.setTimeout(30_000, () => req.destroy());
    req.end();
  });
}

async function streamCounts(server: DevServer): Promise<{ clients: number; sockets: number; relays: number }> {
  const res = await server.admin("GET", `/environments/${ENV}/streams`);
  if (res.status !== 200) throw new Error(`streams: ${res.status} ${res.text}`);
  return res.json;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;

async function main(): Promise<void> {
  // The clients all share one client key (as every browser of an app does): no per-key cap may
  // stop them, so the key's request budget is raised for the connect burst.
  const server = await startDevServer({
    env: {
      RATE_LIMIT_PER_SECOND: "100000",
      RATE_LIMIT_BURST: "100000",
      EDGEFLAGS_WRANGLER_ARGS: "--var STREAM_HEARTBEAT_SECONDS:5",
    },
  });
  const clients: Client[] = [];
  let stopped = false;
  try {
    const key = await server.mintKey(ENV, "client");
    const flag = (on: boolean) => ({
      key: "banner",
      type: "boolean",
      variants: { on: true, off: false },
      defaultVariant: on ? "on" : "off",
      clientVisible: true,
    });
    await server.admin("PUT", `/environments/${ENV}/flags/banner`, flag(false));
    const bulk = (await (await server.ofrep(key, undefined, {})).json()) as { eventStreams?: { url: string }[] };
    const url = bulk.eventStreams?.[0]?.url;
    if (!url) throw new Error("bulk answer offered no event stream");

    await sleep(2000);
    const perProcessBefore = workerdRss(server.pid);
    const rssBefore = total(perProcessBefore);
    const connectStart = performance.now();
    for (let i = 0; i < CLIENTS; i += BATCH) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, CLIENTS - i) }, () => openClient(url)))));
    }
    const connectMs = performance.now() - connectStart;
    const connected = clients.filter((c) => c.status === 200).length;
    // Client counts reach the relay with its ticks (every 5 s): wait for them, bounded.
    let counts = await streamCounts(server);
    let socketsMax = counts.sockets;
    for (const until = Date.now() + 20_000; counts.clients < connected && Date.now() < until; ) {
      await sleep(500);
      counts = await streamCounts(server);
      socketsMax = Math.max(socketsMax, counts.sockets);
    }
    const countsConnected = counts;
    const perProcessAfter = workerdRss(server.pid);
    const rssAfter = total(perProcessAfter);

    const writeStart = performance.now();
    const written = await server.admin("PUT", `/environments/${ENV}/flags/banner`, flag(true));
    const version = String(written.json?.version ?? written.headers.get("etag")?.replace(/"/g, ""));
    const writeAnswered = performance.now() - writeStart;
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      if (clients.every((c) => c.status !== 200 || c.seen.has(version))) break;
      socketsMax = Math.max(socketsMax, (await streamCounts(server)).sockets);
      await sleep(100);
    }
    const latencies = clients
      .filter((c) => c.seen.has(version))
      .map((c) => c.seen.get(version)! - writeStart)
      .sort((a, b) => a - b);

    for (const c of clients) c.destroy();
    clients.length = 0;
    // The last client leaving closes the isolate's socket and then the relay's (within a few ticks).
    let after = await streamCounts(server);
    for (const until = Date.now() + 40_000; (after.sockets > 0 || after.relays > 0) && Date.now() < until; ) {
      await sleep(1000);
      after = await streamCounts(server);
    }

    await server.stop();
    stopped = true;
    const floorKb = await runtimeFloorKb(Math.min(CLIENTS, 1000));
    const figures = {
      clients: CLIENTS,
      connected,
      connect_ms: Math.round(connectMs),
      streams_reported: countsConnected,
      received: latencies.length,
      within_2s: latencies.filter((ms) => ms <= 2000).length,
      refetch_p50_ms: Math.round(percentile(latencies, 0.5)),
      refetch_max_ms: Math.round(latencies.at(-1) ?? NaN),
      admin_write_ms: Math.round(writeAnswered),
      env_do_sockets_max: socketsMax,
      relay_shards_K: 16,
      workerd_rss_before_mb: Math.round(rssBefore / 1024),
      workerd_rss_after_mb: Math.round(rssAfter / 1024),
      kb_per_client: Math.round(((rssAfter - rssBefore) / Math.max(1, connected)) * 10) / 10,
      // wrangler dev runs a proxy process (no edgeflags code) in front of the Worker's process.
      kb_per_client_by_process: [...perProcessAfter].map(
        ([pid, kb]) => Math.round(((kb - (perProcessBefore.get(pid) ?? kb)) / Math.max(1, connected)) * 10) / 10,
      ),
      runtime_floor_kb_per_open_request: Math.round(floorKb * 10) / 10,
      after_all_left: after,
    };
    console.log(
      `${figures.received}/${figures.connected} clients got the refetch for v${version}; ${figures.within_2s} within 2 s ` +
        `(p50 ${figures.refetch_p50_ms} ms, max ${figures.refetch_max_ms} ms); environment DO sockets ≤ ${socketsMax}; ` +
        `workerd RSS ${figures.workerd_rss_before_mb} → ${figures.workerd_rss_after_mb} MB (${figures.kb_per_client} KB per client; ` +
        `a bare Worker holding requests open: ${figures.runtime_floor_kb_per_open_request} KB per request in one workerd process)`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    for (const c of clients) c.destroy();
    if (!stopped) await server.stop();
  }
}

const guard = setTimeout(() => {
  console.error(`bench:streams did not finish within ${GLOBAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, GLOBAL_TIMEOUT_MS);
guard.unref();
await main();
process.exit(0);
