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
 * Env: BENCH_SECONDS (default 10 per route, after a 2 s warm-up), BENCH_CONNECTIONS (default 10).
 * The load generator (autocannon) shares the 2 cores with the runtime: compare ratios, not req/s.
 * Last line of output: one JSON object with the figures.
 * @module
 */
import { createRequire } from "node:module";
import { compileEnvironment } from "../src/core/compile";
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

async function load(route: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Row> {
  // A one-off request first: the route must work, or its numbers would measure error pages.
  const probe = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body });
  if (probe.status !== 200) throw new Error(`${route}: ${probe.status} ${await probe.text()}`);
  await probe.arrayBuffer();
  // Warm up unrecorded (JIT in workerd and in the load generator), so run order does not skew ratios.
  await autocannon({ url, ...init, connections: CONNECTIONS, duration: Math.min(2, SECONDS) });
  const r = await autocannon({ url, ...init, connections: CONNECTIONS, duration: SECONDS });
  const row = { route, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors + r.timeouts };
  process.stderr.write(`  ${route}: ${row.rps.toFixed(0)} req/s\n`);
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
  const perRequestUs: number[] = [];
  for (let round = 0; round < 15; round++) {
    const n = 100;
    const t = performance.now();
    for (let i = 0; i < n; i++) JSON.stringify({ flags: env.evaluateAll({ ...CONTEXT, targetingKey: `user-${i}` }) });
    perRequestUs.push(((performance.now() - t) * 1000) / n);
  }
  return { flags: env.flags.length, compileMs: median(compileMs), evaluateAllJsonUs: median(perRequestUs) };
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
 * Two servers in one run, the same except INSIGHTS=off on one: every route is loaded on one and
 * then the other (alternating which goes first), and each server's ratios are to its own
 * /healthz, measured before and after its routes (mean).
 */
async function main() {
  process.stderr.write(`starting two servers (npm start): insights off and on ...
`);
  // The per-key rate limit would otherwise measure 429s.
  const limits = { RATE_LIMIT_PER_SECOND: "1000000000", RATE_LIMIT_BURST: "1000000000" };
  const off = await startDevServer({ env: { ...limits, INSIGHTS: "off" } });
  const on = await startDevServer({ env: limits });
  try {
    const sides = [
      { name: "off", server: off, targets: await targets(off), rows: [] as Row[], floor: [] as number[] },
      { name: "on", server: on, targets: await targets(on), rows: [] as Row[], floor: [] as number[] },
    ];
    process.stderr.write(`load: ${SECONDS} s per route, ${CONNECTIONS} connections\n`);
    const run = async (side: (typeof sides)[number], i: number) => {
      const t = side.targets[i];
      process.stderr.write(`[insights ${side.name}]`);
      return load(t.route, side.server.baseUrl + t.path, t.init);
    };
    for (const side of sides) side.floor.push((await run(side, 0)).rps);
    const n = sides[0].targets.length;
    for (let i = 1; i < n; i++) {
      const order = i % 2 === 1 ? sides : [...sides].reverse();
      for (const side of order) side.rows[i] = await run(side, i);
    }
    for (const side of [...sides].reverse()) side.floor.push((await run(side, 0)).rps);

    console.log(`\nwrangler dev (--log-level warn), ${CONNECTIONS} connections, ${SECONDS} s per route; ratio = req/s ÷ the same server's /healthz\n`);
    console.log(`${"route".padEnd(26)}${"off req/s".padStart(10)}${"ratio".padStart(7)}${"p99".padStart(7)}${"on req/s".padStart(10)}${"ratio".padStart(7)}${"p99".padStart(7)}${"on/off".padStart(8)}`);
    const floorOf = (side: (typeof sides)[number]) => side.floor.reduce((a, b) => a + b, 0) / side.floor.length;
    const summary: Record<string, { off: number; on: number; change: number }> = {};
    console.log(`${"GET /healthz (mean)".padEnd(26)}${floorOf(sides[0]).toFixed(0).padStart(10)}${"1.00".padStart(7)}${"".padStart(7)}${floorOf(sides[1]).toFixed(0).padStart(10)}${"1.00".padStart(7)}`);
    for (let i = 1; i < n; i++) {
      const [a, b] = sides.map((side) => ({ row: side.rows[i], ratio: side.rows[i].rps / floorOf(side) }));
      const change = b.ratio / a.ratio - 1;
      summary[a.row.route] = { off: Number(a.ratio.toFixed(3)), on: Number(b.ratio.toFixed(3)), change: Number((change * 100).toFixed(1)) };
      console.log(
        `${a.row.route.padEnd(26)}${a.row.rps.toFixed(0).padStart(10)}${a.ratio.toFixed(2).padStart(7)}${a.row.p99.toFixed(0).padStart(7)}` +
          `${b.row.rps.toFixed(0).padStart(10)}${b.ratio.toFixed(2).padStart(7)}${b.row.p99.toFixed(0).padStart(7)}${`${change >= 0 ? "+" : ""}${(change * 100).toFixed(1)}%`.padStart(8)}`,
      );
    }

    const cpu = cpuOfBulk(await storedDoc(on, "bench500"));
    console.log(
      `\nCPU in Node (src/core, same 500-flag definitions): compile ${cpu.compileMs.toFixed(2)} ms once per snapshot; ` +
        `evaluateAll + JSON ${cpu.evaluateAllJsonUs.toFixed(0)} µs per bulk-500 request`,
    );
    const usage = await on.admin("GET", "/environments/bench50/flags/flag-0/usage?hours=1");
    console.log(`insights on: flag-0 of bench50 counted ${usage.json?.total} evaluations during the run`);
    console.log(
      JSON.stringify({
        healthzRps: { off: Math.round(floorOf(sides[0])), on: Math.round(floorOf(sides[1])) },
        ratios: summary,
        non2xx: sides.flatMap((s) => s.rows.filter(Boolean)).reduce((sum, r) => sum + r.non2xx, 0),
        cpuBulk500: { compileMs: Number(cpu.compileMs.toFixed(3)), evaluateAllJsonUs: Number(cpu.evaluateAllJsonUs.toFixed(1)) },
      }),
    );
  } finally {
    await Promise.all([off.stop(), on.stop()]);
  }
}

await main();
