/**
 * `npm run bench:http`: throughput and latency of the evaluation routes through the real local
 * server (`npm start` via the e2e harness), as a ratio to `/healthz` measured in the same run —
 * the local runtime, not our code, sets the absolute numbers (TOOLCHAIN.md: about 1,400 req/s).
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

async function main() {
  process.stderr.write(`starting the server (npm start) ...\n`);
  // The per-key rate limit would otherwise measure 429s.
  const server = await startDevServer({ env: { RATE_LIMIT_PER_SECOND: "1000000000", RATE_LIMIT_BURST: "1000000000" } });
  try {
    const key50 = await seed(server, "bench50", 50);
    const key500 = await seed(server, "bench500", 500);
    const post = (key: string) => ({
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ context: CONTEXT }),
    });
    process.stderr.write(`load: ${SECONDS} s per route, ${CONNECTIONS} connections\n`);
    const rows = [
      await load("GET /healthz", `${server.baseUrl}/healthz`),
      await load("POST single flag (of 50)", `${server.baseUrl}/ofrep/v1/evaluate/flags/flag-0`, post(key50)),
      await load("POST bulk 50", `${server.baseUrl}/ofrep/v1/evaluate/flags`, post(key50)),
      await load("POST bulk 500", `${server.baseUrl}/ofrep/v1/evaluate/flags`, post(key500)),
    ];
    const floor = rows[0].rps;
    console.log(`\nwrangler dev (--log-level warn), ${CONNECTIONS} connections, ${SECONDS} s per route\n`);
    console.log(`${"route".padEnd(26)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"ratio".padStart(8)}${"non-2xx".padStart(9)}`);
    for (const r of rows) {
      console.log(
        `${r.route.padEnd(26)}${r.rps.toFixed(0).padStart(9)}${r.p50.toFixed(1).padStart(9)}${r.p99.toFixed(1).padStart(9)}${(r.rps / floor).toFixed(2).padStart(8)}${String(r.non2xx).padStart(9)}`,
      );
    }

    const cpu = cpuOfBulk(await storedDoc(server, "bench500"));
    console.log(
      `\nCPU in Node (src/core, same 500-flag definitions): compile ${cpu.compileMs.toFixed(2)} ms once per snapshot; ` +
        `evaluateAll + JSON ${cpu.evaluateAllJsonUs.toFixed(0)} µs per bulk-500 request`,
    );
    const ratio = (i: number) => Number((rows[i].rps / floor).toFixed(3));
    console.log(
      JSON.stringify({
        healthzRps: Math.round(floor),
        ratios: { single: ratio(1), bulk50: ratio(2), bulk500: ratio(3) },
        p99Ms: Object.fromEntries(rows.map((r) => [r.route, r.p99])),
        non2xx: rows.reduce((s, r) => s + r.non2xx, 0),
        cpuBulk500: { compileMs: Number(cpu.compileMs.toFixed(3)), evaluateAllJsonUs: Number(cpu.evaluateAllJsonUs.toFixed(1)) },
      }),
    );
  } finally {
    await server.stop();
  }
}

await main();
