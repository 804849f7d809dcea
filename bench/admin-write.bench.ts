/**
 * `npm run bench:admin`: admin write latency through the real local runtime (`npm start` via the
 * e2e harness): sequential flag PUTs and toggles, each answered only after the Durable Object has
 * committed and published the snapshot to KV. Prints p50/p90/p99 in ms; last line is JSON.
 * Env: BENCH_WRITES (default 200 per kind).
 * @module
 */
import { startDevServer } from "../test/support/wrangler-dev";

const WRITES = Number(process.env.BENCH_WRITES ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(n: number, call: (i: number) => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const status = await call(i);
    times.push(performance.now() - t0);
    if (status >= 300) throw new Error(`write ${i} answered ${status}`);
  }
  return times.sort((a, b) => a - b);
}

const server = await startDevServer();
try {
  await server.admin("PUT", "/environments/bench");
  const flag = (i: number) => ({
    type: "string",
    variants: { a: "A", b: "B" },
    defaultVariant: i % 2 ? "a" : "b",
    rules: [{ when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "a" } }],
  });
  // Warm the isolate and the Durable Object first.
  for (let i = 0; i < 10; i++) await server.admin("PUT", `/environments/bench/flags/warm-${i}`, flag(i));

  const puts = await timed(
    WRITES,
    async (i) => (await server.admin("PUT", `/environments/bench/flags/flag-${i % 20}`, flag(i))).status,
  );
  const toggles = await timed(
    WRITES,
    async (i) =>
      (await server.admin("POST", "/environments/bench/flags/flag-0/toggle", { enabled: i % 2 === 0 })).status,
  );

  const row = (name: string, t: number[]) =>
    `${name.padEnd(28)} ${percentile(t, 50).toFixed(1).padStart(7)} ${percentile(t, 90).toFixed(1).padStart(7)} ${percentile(t, 99).toFixed(1).padStart(7)}`;
  console.log(`${"admin write (n=" + WRITES + ")".padEnd(16)}`.padEnd(28) + "  p50 ms  p90 ms  p99 ms");
  console.log(row("PUT flag", puts));
  console.log(row("POST toggle", toggles));
  console.log(
    JSON.stringify({
      put_p50_ms: +percentile(puts, 50).toFixed(1),
      put_p99_ms: +percentile(puts, 99).toFixed(1),
      toggle_p50_ms: +percentile(toggles, 50).toFixed(1),
      toggle_p99_ms: +percentile(toggles, 99).toFixed(1),
    }),
  );
} finally {
  await server.stop();
}
