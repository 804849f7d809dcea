/**
 * `npm run bench:publish`: the write side at scale, through the real local runtime (`npm start`
 * via the e2e harness) with the deployed pointer interval (KV_POINTER_MIN_INTERVAL_MS=1000):
 * - toggle latency (p50 of BENCH_TOGGLES, default 20) at 100, 10,000 and 100,000 flags, each
 *   environment imported through `PUT …/flagd`;
 * - the 100,000-flag environment imported, evaluated (single and bulk) and exported;
 * - the cold first answer at 100,000 flags (after a restart on the same state);
 * - serial single-flag writes per second;
 * - KV bytes written and read per one-flag change at 10,000 flags, warm reader (bench/publish/kv-bytes.ts).
 * Optional figures from other work: every `bench/publish/<name>.ts` listed in OPTIONAL that exists
 * is imported and its `measure()` merged into the JSON line (the last line printed).
 * Env: BENCH_SIZES (default "100,10000,100000"), BENCH_TOGGLES.
 * @module
 */
import { existsSync } from "node:fs";
import { startDevServer, type DevServer } from "../test/support/wrangler-dev";
import { measure as kvBytes } from "./publish/kv-bytes";

const SIZES = (process.env.BENCH_SIZES ?? "100,10000,100000").split(",").map(Number);
const TOGGLES = Number(process.env.BENCH_TOGGLES ?? 20);
/** Measurement modules other work adds (big segments, usage aggregation). */
const OPTIONAL = ["segments", "usage"];

const p50 = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
const ms = (n: number) => +n.toFixed(1);

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await work();
  return [out, performance.now() - t0];
}

/** A flagd document of `n` two-variant flags (no targeting: 100,000 of them fit the 10 MiB import limit). */
function flagdDoc(n: number): unknown {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    flags[`flag-${i}`] = { state: "ENABLED", variants: { a: "A", b: "B" }, defaultVariant: i % 2 ? "a" : "b" };
  return { flags };
}

async function must(what: string, res: Promise<{ status: number; text: string }>) {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r;
}

async function environment(server: DevServer, n: number): Promise<{ env: string; importMs: number }> {
  const env = `pub-${n}`;
  await must("create", server.admin("PUT", `/environments/${env}`));
  const [, importMs] = await time(() => must("import", server.admin("PUT", `/environments/${env}/flagd`, flagdDoc(n))));
  return { env, importMs };
}

async function toggles(server: DevServer, env: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const [, t] = await time(() =>
      must("toggle", server.admin("POST", `/environments/${env}/flags/flag-7/toggle`, { enabled: i % 2 === 0 })),
    );
    times.push(t);
  }
  return times;
}

const out: Record<string, number | null> = {};
Object.assign(out, await kvBytes(10_000));
let server = await startDevServer({ env: { KV_POINTER_MIN_INTERVAL_MS: "1000" } });
try {
  let biggest: { env: string; key: string } | undefined;
  for (const n of SIZES) {
    const { env, importMs } = await environment(server, n);
    out[`import_ms_${n}`] = ms(importMs);
    out[`toggle_p50_ms_${n}`] = ms(p50(await toggles(server, env, TOGGLES)));
    console.log(`${n} flags: import ${ms(importMs)} ms, toggle p50 ${out[`toggle_p50_ms_${n}`]} ms`);
    if (n === Math.max(...SIZES)) biggest = { env, key: await server.mintKey(env, "server") };
  }
  if (biggest) {
    const n = Math.max(...SIZES);
    const [single, singleMs] = await time(() =>
      server.ofrep(biggest!.key, "flag-5", { targetingKey: "u", email: "x@example.com" }),
    );
    if (single.status !== 200) throw new Error(`evaluate answered ${single.status}`);
    const [bulk, bulkMs] = await time(
      async () =>
        (await (await server.ofrep(biggest!.key, undefined, { targetingKey: "u" })).json()) as { flags: unknown[] },
    );
    const [exported, exportMs] = await time(() => server.admin("GET", `/environments/${biggest!.env}/flagd`));
    out[`evaluate_first_ms_${n}`] = ms(singleMs);
    out[`bulk_flags_${n}`] = bulk.flags.length;
    out[`bulk_ms_${n}`] = ms(bulkMs);
    out[`export_flags_${n}`] = Object.keys((exported.json as { flags: object }).flags).length;
    out[`export_ms_${n}`] = ms(exportMs);
    // Cold: a restart on the same state, then the first answer of the new isolate.
    await server.stop({ keepState: true });
    server = await startDevServer({ persistDir: server.persistDir, env: { KV_POINTER_MIN_INTERVAL_MS: "1000" } });
    const [cold, coldMs] = await time(() => server.ofrep(biggest!.key, "flag-5", { targetingKey: "u" }));
    if (cold.status !== 200) throw new Error(`cold evaluate answered ${cold.status}`);
    out[`cold_first_answer_ms_${n}`] = ms(coldMs);
  }
  // Serial single-flag writes with the deployed pointer interval.
  const serial = await environment(server, 100);
  const count = 50;
  const [, serialMs] = await time(() => toggles(server, serial.env, count));
  out.serial_writes_per_s = +(count / (serialMs / 1000)).toFixed(1);
} finally {
  await server.stop();
}
for (const name of OPTIONAL) {
  const path = new URL(`./publish/${name}.ts`, import.meta.url);
  if (!existsSync(path)) continue;
  const mod = (await import(path.href)) as { measure(): Promise<Record<string, number>> };
  Object.assign(out, await mod.measure());
}
console.log(JSON.stringify(out));
