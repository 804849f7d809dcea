/**
 * `npm run bench:http`: throughput and latency of the evaluation routes through the real local
 * server (`npm start` via the e2e harness), as a ratio to `/healthz` measured in the same run —
 * the local runtime, not our code, sets the absolute numbers (TOOLCHAIN.md: about 1,400 req/s).
 * Two servers, insights (usage counting, src/edge/insights) off and on, so its cost is the change
 * in ratio between them.
 *
 * Then, because a deployed Worker freezes timers during synchronous work, the CPU cost of a
 * bulk-500 request is measured in Node over the same definitions via src/core.
 *
 * Env: BENCH_SECONDS (default 10 per route, after a 2 s warm-up), BENCH_CONNECTIONS (default 10),
 * BENCH_ROUNDS (default 3).
 * The load generator (autocannon) shares the 2 cores with the runtime: compare ratios, not req/s.
 * Last line of output: one JSON object with the figures.
 * @module
 */
import { createRequire } from "node:module";
import { compileEnvironment } from "../src/core/compile";
import { Aggregator } from "../src/edge/insights/aggregator";
import type { EnvironmentDoc } from "../src/core/model";
import { startDevServer, type DevServer } from "../test/support/wrangler-dev";
import { flagdDoc } from "./workloads";

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  "2xx": number;
}
type Autocannon = (opts: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;
// autocannon ships no types; this is the slice of its programmatic API used here.
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONTEXT = { targetingKey: "user-42", email: "ada@example.com", plan: "pro", country: "NL" };

async function seed(server: DevServer, env: string, n: number): Promise<string> {
  const key = await server.mintKey(env, "server");
  const res = await server.admin("PUT", `/environments/${env}/flagd`, flagdDoc(n));
  if (res.status !== 200) throw new Error(`import ${n} flags into ${env}: ${res.status} ${res.text}`);
  return key;
}

/** The environment exactly as the server stores it, in the native model. */
async function storedDoc(server: DevServer, env: string): Promise<EnvironmentDoc> {
  const flags = await server.admin("GET", `/environments/${env}/flags`);
  const segments = await server.admin("GET", `/environments/${env}/segments`);
  if (flags.status !== 200) throw new Error(`GET flags of ${env}: ${flags.status} ${flags.text}`);
  const strip = ({ version: _v, ...rest }: any) => rest;
  return { flags: flags.json.flags.map(strip), segments: (segments.json?.segments ?? []).map(strip) };
}

interface Row {
  route: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function load(
  route: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Row> {
  // A one-off request first: the route must work, or its numbers would measure error pages.
  const probe = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body });
  if (probe.status !== 200) throw new Error(`${route}: ${probe.status} ${await probe.text()}`);
  await probe.arrayBuffer();
  // Warm up unrecorded (JIT in workerd and in the load generator), so run order does not skew ratios.
  await autocannon({ url, ...init, connections: CONNECTIONS, duration: Math.min(2, SECONDS) });
  const r = await autocannon({ url, ...init, connections: CONNECTIONS, duration: SECONDS });
  const row = {
    route,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx + r.errors + r.timeouts,
  };
  process.stderr.write(
    `  ${route}: ${row.rps.toFixed(0)} req/s${row.non2xx ? ` (non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})` : ""}\n`,
  );
  return row;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU of one bulk request in Node: compile once per snapshot, then evaluateAll + JSON per request. */
function cpuOfBulk(doc: EnvironmentDoc) {
  const compileMs: number[] = [];
  let compiled;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const result = compileEnvironment(doc);
    compileMs.push(performance.now() - t);
    if (!result.ok) throw new Error(`compile: ${JSON.stringify(result.errors.slice(0, 3))}`);
    compiled = result.value;
  }
  const env = compiled!;
  for (let i = 0; i < 200; i++) JSON.stringify({ flags: env.evaluateAll(CONTEXT) }); // warm up
  const perRequestUs = (request: (i: number) => void) => {
    const us: number[] = [];
    for (let round = 0; round < 15; round++) {
      const n = 100;
      const t = performance.now();
      for (let i = 0; i < n; i++) request(i);
      us.push(((performance.now() - t) * 1000) / n);
    }
    return median(us);
  };
  const contextOf = (i: number) => ({ ...CONTEXT, targetingKey: `user-${i}` });
  // What insights adds per request on the isolate: the request counter and one count per evaluation
  // (src/edge/insights/aggregator.ts), sending excluded (that runs in waitUntil after the answer).
  const aggregator = new Aggregator({ windowMs: 10_000, send: async () => {} });
  const plain = () => perRequestUs((i) => JSON.stringify({ flags: env.evaluateAll(contextOf(i)) }));
  const counted = () =>
    perRequestUs((i) => {
      const results = env.evaluateAll(contextOf(i));
      aggregator.request("bench", "bulk", 200, "miss", false);
      aggregator.results("bench", "server", results);
      aggregator.tick();
      JSON.stringify({ flags: results });
    });
  // Alternated, so drift on a shared machine hits both alike.
  const plainUs: number[] = [];
  const countedUs: number[] = [];
  for (let i = 0; i < 3; i++) {
    plainUs.push(plain());
    countedUs.push(counted());
  }
  const evaluateAllJsonUs = median(plainUs);
  const insightsUs = median(countedUs) - evaluateAllJsonUs;
  return { flags: env.flags.length, compileMs: median(compileMs), evaluateAllJsonUs, insightsUs };
}

interface Target {
  route: string;
  path: string;
  init?: { method?: string; headers?: Record<string, string>; body?: string };
}

/** Seeds a server and names what to load on it (same definitions on both servers). */
async function targets(server: DevServer): Promise<Target[]> {
  const key50 = await seed(server, "bench50", 50);
  const key500 = await seed(server, "bench500", 500);
  const post = (key: string, context: unknown = CONTEXT) => ({
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ context }),
  });
  return [
    { route: "GET /healthz", path: "/healthz" },
    { route: "POST single flag (of 50)", path: "/ofrep/v1/evaluate/flags/flag-0", init: post(key50) },
    { route: "POST bulk 50", path: "/ofrep/v1/evaluate/flags", init: post(key50) },
    { route: "POST bulk 500", path: "/ofrep/v1/evaluate/flags", init: post(key500) },
    // No targetingKey: served from the rendered-answer memo, counted through its remembered shape.
    { route: "POST bulk 50 anonymous", path: "/ofrep/v1/evaluate/flags", init: post(key50, { plan: "pro" }) },
  ];
}

/**
 * Two servers in one run, the same except INSIGHTS=off on one. A round loads every route on one
 * and then the other (alternating which goes first) between two /healthz measurements per server;
 * each server's ratios are to its own /healthz of that round (mean of the two). The change per
 * route is the median over BENCH_ROUNDS rounds (default 3): one round's ±10% is this runtime's
 * noise on 2 cores. The insights server counts with the deployed window (10 s, wrangler.toml),
 * not `npm start`'s 1 s, so the queue work per request is what a deployment pays.
 */
async function main() {
  process.stderr.write(`starting two servers (npm start): insights off and on ...
`);
  // The per-key rate limit would otherwise measure 429s.
  const limits = { RATE_LIMIT_PER_SECOND: "1000000000", RATE_LIMIT_BURST: "1000000000" };
  const off = await startDevServer({ env: { ...limits, INSIGHTS: "off" } });
  const on = await startDevServer({ env: { ...limits, INSIGHTS_WINDOW_SECONDS: "10" } });
  try {
    const sides = [
      { name: "off", server: off, targets: await targets(off), rows: [] as Row[][] },
      { name: "on", server: on, targets: await targets(on), rows: [] as Row[][] },
    ];
    process.stderr.write(`load: ${ROUNDS} rounds, ${SECONDS} s per route, ${CONNECTIONS} connections\n`);
    const run = async (side: (typeof sides)[number], i: number) => {
      const t = side.targets[i];
      process.stderr.write(`[insights ${side.name}]`);
      return load(t.route, side.server.baseUrl + t.path, t.init);
    };
    const n = sides[0].targets.length;
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`round ${round + 1}\n`);
      const rows = sides.map(() => [] as Row[]);
      const floors = sides.map(() => [] as number[]);
      for (const [s, side] of sides.entries()) floors[s].push((await run(side, 0)).rps);
      for (let i = 1; i < n; i++) {
        const order = (i + round) % 2 === 1 ? [0, 1] : [1, 0];
        for (const s of order) rows[s][i] = await run(sides[s], i);
      }
      for (const s of [1, 0]) floors[s].push((await run(sides[s], 0)).rps);
      for (const [s, side] of sides.entries()) {
        rows[s][0] = { ...rows[s][1], route: "GET /healthz (mean)", rps: (floors[s][0] + floors[s][1]) / 2 };
        side.rows.push(rows[s]);
      }
    }

    console.log(
      `\nwrangler dev (--log-level warn), ${CONNECTIONS} connections, ${SECONDS} s per route, ${ROUNDS} rounds; ratio = req/s ÷ the same server's /healthz in that round; medians over rounds\n`,
    );
    console.log(
      `${"route".padEnd(26)}${"off req/s".padStart(10)}${"ratio".padStart(7)}${"p99".padStart(7)}${"on req/s".padStart(10)}${"ratio".padStart(7)}${"p99".padStart(7)}${"on/off".padStart(8)}  per round`,
    );
    const ratio = (s: number, round: number, i: number) => sides[s].rows[round][i].rps / sides[s].rows[round][0].rps;
    const rounds = [...Array(ROUNDS).keys()];
    const summary: Record<string, { off: number; on: number; change: number; rounds: number[] }> = {};
    const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
    for (let i = 0; i < n; i++) {
      const changes = rounds.map((r) => ratio(1, r, i) / ratio(0, r, i) - 1);
      const [a, b] = [0, 1].map((s) => ({
        rps: median(rounds.map((r) => sides[s].rows[r][i].rps)),
        ratio: median(rounds.map((r) => ratio(s, r, i))),
        p99: median(rounds.map((r) => sides[s].rows[r][i].p99)),
      }));
      const change = median(changes);
      const route = sides[0].rows[0][i].route;
      if (i > 0)
        summary[route] = {
          off: Number(a.ratio.toFixed(3)),
          on: Number(b.ratio.toFixed(3)),
          change: Number((change * 100).toFixed(1)),
          rounds: changes.map((c) => Number((c * 100).toFixed(1))),
        };
      console.log(
        `${route.padEnd(26)}${a.rps.toFixed(0).padStart(10)}${a.ratio.toFixed(2).padStart(7)}${(i ? a.p99.toFixed(0) : "").padStart(7)}` +
          `${b.rps.toFixed(0).padStart(10)}${b.ratio.toFixed(2).padStart(7)}${(i ? b.p99.toFixed(0) : "").padStart(7)}${(i ? pct(change) : "").padStart(8)}  ${i ? changes.map(pct).join(" ") : ""}`,
      );
    }

    // Read before the Node measurement below: seconds of idle would let the server drop the
    // kept-alive connection under the request.
    const usage = await on.admin("GET", "/environments/bench50/flags/flag-0/usage?hours=1");
    const doc500 = await storedDoc(on, "bench500");
    const cpu = cpuOfBulk(doc500);
    console.log(
      `\nCPU in Node (src/core, same 500-flag definitions): compile ${cpu.compileMs.toFixed(2)} ms once per snapshot; ` +
        `evaluateAll + JSON ${cpu.evaluateAllJsonUs.toFixed(0)} µs per bulk-500 request; insights counting adds ${cpu.insightsUs.toFixed(1)} µs ` +
        `(${((100 * cpu.insightsUs) / cpu.evaluateAllJsonUs).toFixed(1)}%)`,
    );
    console.log(`insights on: flag-0 of bench50 counted ${usage.json?.total} evaluations during the run`);
    console.log(
      JSON.stringify({
        healthzRps: {
          off: Math.round(median(rounds.map((r) => sides[0].rows[r][0].rps))),
          on: Math.round(median(rounds.map((r) => sides[1].rows[r][0].rps))),
        },
        ratios: summary,
        non2xx: sides.flatMap((s) => s.rows.flatMap((round) => round.slice(1))).reduce((sum, r) => sum + r.non2xx, 0),
        cpuBulk500: {
          compileMs: Number(cpu.compileMs.toFixed(3)),
          evaluateAllJsonUs: Number(cpu.evaluateAllJsonUs.toFixed(1)),
          insightsUs: Number(cpu.insightsUs.toFixed(1)),
        },
      }),
    );
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}

await main();
