/**
 * `npm run bench:cold`: the first single OFREP evaluation on a cold isolate, against the real
 * local server (`npm start` via the e2e harness), over a 10,000-flag environment and over a
 * 100-flag one. The environments are imported once; then per round the server is restarted on
 * the same state (a new workerd: no snapshot in isolate memory) and one environment's first
 * single evaluation is timed at the client, then a second (warm) one, then the first bulk answer
 * (which compiles every flag). Rounds alternate which environment goes first.
 *
 * Env: BENCH_COLD_ROUNDS (default 3 restarts per environment). The goal: 10,000 flags ≤ 2× 100.
 * Last line of output: one JSON object with the medians.
 * @module
 */
import { rmSync } from "node:fs";
import { startDevServer, tempDir, type DevServer } from "../test/support/wrangler-dev";
import { flagdDoc } from "./workloads";

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 3);
const CONTEXT = { targetingKey: "user-42", email: "ada@example.com", plan: "pro", country: "NL" };
const SIZES = [10_000, 100] as const;
const SERVER_ENV = { RATE_LIMIT_PER_SECOND: "1000000000", RATE_LIMIT_BURST: "1000000000" };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(server: DevServer, key: string, flagKey: string | undefined): Promise<number> {
  const t0 = performance.now();
  const res = await server.ofrep(key, flagKey, CONTEXT);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${flagKey ?? "bulk"}: ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

async function main() {
  const persistDir = tempDir("edgeflags-cold-");
  const keys = new Map<number, string>();
  try {
    process.stderr.write("seeding (npm start) ...\n");
    const seeding = await startDevServer({ persistDir, env: SERVER_ENV });
    try {
      for (const n of SIZES) {
        const env = `cold${n}`;
        const key = await seeding.mintKey(env, "server");
        const res = await seeding.admin("PUT", `/environments/${env}/flagd`, flagdDoc(n));
        if (res.status !== 200) throw new Error(`import ${n} flags: ${res.status} ${res.text.slice(0, 300)}`);
        keys.set(n, key);
        await timed(seeding, key, "flag-77"); // published and answering
      }
    } finally {
      await seeding.stop();
    }

    const first = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const warm = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    const bulk = new Map<number, number[]>(SIZES.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of round % 2 === 0 ? SIZES : [...SIZES].reverse()) {
        const server = await startDevServer({ persistDir, env: SERVER_ENV });
        try {
          const key = keys.get(n)!;
          first.get(n)!.push(await timed(server, key, "flag-77"));
          warm.get(n)!.push(await timed(server, key, "flag-78"));
          bulk.get(n)!.push(await timed(server, key, undefined));
          process.stderr.write(`  round ${round + 1}, ${n} flags: first ${first.get(n)!.at(-1)!.toFixed(1)} ms\n`);
        } finally {
          await server.stop();
        }
      }
    }
    const m = (series: Map<number, number[]>, n: number) => Number(median(series.get(n)!).toFixed(1));
    console.log(`\nnpm start restarted before each round (${ROUNDS} per size); client-side ms, median`);
    console.log(
      `${"flags".padStart(7)}${"first single".padStart(14)}${"next single".padStart(13)}${"first bulk".padStart(12)}`,
    );
    for (const n of SIZES)
      console.log(
        `${String(n).padStart(7)}${String(m(first, n)).padStart(14)}${String(m(warm, n)).padStart(13)}${String(m(bulk, n)).padStart(12)}`,
      );
    const ratio = median(first.get(10_000)!) / median(first.get(100)!);
    console.log(`first single evaluation, 10,000 flags / 100 flags: ${ratio.toFixed(2)}× (goal ≤ 2×)`);
    console.log(
      JSON.stringify({
        cold_http_single_10k_ms: m(first, 10_000),
        cold_http_single_100_ms: m(first, 100),
        cold_http_ratio: Number(ratio.toFixed(2)),
        warm_http_single_10k_ms: m(warm, 10_000),
        cold_http_bulk_10k_ms: m(bulk, 10_000),
        cold_http_bulk_100_ms: m(bulk, 100),
      }),
    );
  } finally {
    rmSync(persistDir, { recursive: true, force: true });
  }
}

await main();
