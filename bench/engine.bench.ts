/**
 * Evaluation throughput of edgeflags' engine against flagd-core, GrowthBook, Unleash and
 * LaunchDarkly on the same logical flags and the same generated contexts, plus compile time and
 * retained heap for a 10,000-flag environment, the CPU of a bulk answer of 500 flags (evaluate +
 * OFREP body) and the cold-isolate path (fresh processes, bench/cold-engine.ts). Run: `npm run bench`
 * (node --expose-gc --import tsx bench/engine.bench.ts). The last line printed is one JSON object.
 *
 * Method: every engine is checked first (rule decisions against the logical definition, flagd-core
 * variant for variant against ours, rollouts included). Then, per engine and workload: a batch
 * size is calibrated to about BATCH_MS and batches run for WARMUP_MS; then ROUNDS rounds time one
 * batch of every engine each (interleaved, so load from other processes hits all engines alike)
 * with process.hrtime.bigint (and process.cpuUsage, shown as "cpu ns/eval", steadier on a busy
 * machine); the median per engine is reported. Loops sum a checksum of served values,
 * printed at the end, so no evaluation can be optimised away.
 * @module
 */
import { spawnSync } from "node:child_process";
import { EnvironmentDoc as EnvironmentDocSchema } from "../src/core/model";
import type { EvaluationContext } from "../src/core/evaluation-types";
import { openEnvironment } from "../src/core/lazy-compile";
import { encodeDoc, readSnapshot, snapshotText } from "../src/core/wire/snapshot-text";
import { ofrepItemsJson, toOfrepItem } from "../src/edge/ofrep";
import { COLD_MODES, type ColdMode } from "./cold-engine";
import { calibrate, median, nowNs, timeBatch, type Runner } from "./timing";
import { toNativeDoc } from "./peers/ours";
import type { BenchEngine, EngineFactory } from "./peers/engine";
import { loadavg } from "node:os";
import { createFlagdCore, flagdFactory } from "./peers/flagd";
import { createGrowthBook } from "./peers/growthbook";
import { createLaunchDarkly } from "./peers/launchdarkly";
import { createUnleash } from "./peers/unleash";
import {
  asParsedJson,
  expectedDecision,
  generateContexts,
  generateMixedFlags,
  generateSegmentContexts,
  workloadA,
  workloadB,
  workloadC,
  type BenchContext,
  type Workload,
} from "./workloads";

// GrowthBook checks NODE_ENV on hot paths to skip debug logging; production servers set it.
process.env.NODE_ENV ??= "production";

const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 20);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const CONTEXTS = 4096; // a power of two: loops index with a mask
const CHECK_SAMPLE = 1000;
const OURS = "edgeflags";

const gc = (globalThis as { gc?: () => void }).gc;
let checksum = 0;
let failures = 0;

interface Row {
  engine: string;
  workload: string;
  evalsPerSec: number;
  nsPerEval: number;
  cpuNsPerEval?: number;
  note?: string;
}
const rows: Row[] = [];
const setupNotes = new Map<string, string>();

async function loadOurs(): Promise<EngineFactory | undefined> {
  try {
    return (await import("./peers/ours")).createOurs;
  } catch (e) {
    console.error(`edgeflags engine not available (${(e as Error).message.split("\n")[0]}); peers only`);
    failures++;
    return undefined;
  }
}

/** Calibrates a batch size of about BATCH_MS for `run(start, n)` (n operations), then warms up. */
async function prepare(run: Runner): Promise<{ n: number; start: number }> {
  const s = await calibrate(run, BATCH_MS, WARMUP_MS);
  checksum += s.checksum;
  return s;
}

/**
 * Times every runner over ROUNDS rounds, interleaved (one batch of each per round) so that load
 * from other processes on the machine spreads over all engines; returns median ns per operation.
 * Garbage left by one engine is collected before the next engine's batch starts.
 */
async function timeInterleaved(runs: Runner[]): Promise<Array<{ wallNs: number; cpuNs: number }>> {
  const states = [];
  for (const run of runs) states.push(await prepare(run));
  const samples: number[][] = runs.map(() => []);
  const cpuSamples: number[][] = runs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < runs.length; i++) {
      const s = states[i]!;
      if (process.env.BENCH_GC_BETWEEN === "1") gc?.();
      const t = await timeBatch(runs[i]!, s.start, s.n);
      checksum += t.checksum;
      samples[i]!.push(t.wallNs);
      cpuSamples[i]!.push(t.cpuNs);
      s.start += s.n;
    }
  }
  return samples.map((xs, i) => ({ wallNs: median(xs), cpuNs: median(cpuSamples[i]!) }));
}

/** Before timing: does this engine serve what the definition says for a sample of contexts? */
async function verify(
  w: Workload,
  engine: BenchEngine,
  ours: BenchEngine | undefined,
  sample: BenchContext[],
  flagKeys: string[],
): Promise<string[]> {
  const problems: string[] = [];
  const exact = engine.name.startsWith("flagd-core") && ours !== undefined;
  for (const c of sample) {
    const ctx = engine.context(c);
    const oursCtx = ours?.context(c);
    for (const key of flagKeys) {
      const flag = w.flags.find((f) => f.key === key)!;
      const expected = expectedDecision(flag, c, w.segments);
      const got = await engine.variant(key, ctx);
      const okDecision = typeof expected === "string" ? got === expected : got !== undefined && expected.includes(got);
      if (!okDecision) problems.push(`${key} for ${c.targetingKey}: expected ${JSON.stringify(expected)}, got ${got}`);
      if (exact) {
        const want = await ours!.variant(key, oursCtx);
        if (got !== want) problems.push(`${key} for ${c.targetingKey}: flagd-core ${got}, edgeflags ${want}`);
      }
      if (problems.length >= 5) return problems;
    }
  }
  return problems;
}

/** Share of each variant of workload a's flag over the sample, e.g. "A 25% B 51% C 24%". */
async function distribution(engine: BenchEngine, key: string, sample: BenchContext[]): Promise<string> {
  const counts = new Map<string, number>();
  for (const c of sample) {
    const v = String(await engine.variant(key, engine.context(c)));
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([v, n]) => `${v} ${((100 * n) / sample.length).toFixed(1)}%`)
    .join(" ");
}

async function runWorkload(
  generated: Workload,
  generatedContexts: BenchContext[],
  factories: Array<[string, EngineFactory]>,
  bulk: boolean,
) {
  const w = asParsedJson(generated);
  const contexts = asParsedJson(generatedContexts);
  const engines: BenchEngine[] = [];
  for (const [name, make] of factories) {
    try {
      engines.push(await make(w));
    } catch (e) {
      console.error(`workload ${w.name}: ${name} setup failed: ${(e as Error).stack}`);
      failures++;
    }
  }
  const ours = engines.find((e) => e.name === OURS);
  const sample = contexts.slice(0, bulk ? 100 : CHECK_SAMPLE);
  const flagKeys = w.flags.map((f) => f.key);
  const timed: BenchEngine[] = [];
  for (const engine of engines) {
    setupNotes.set(engine.name, engine.notes);
    const problems = await verify(w, engine, ours, sample, flagKeys);
    if (problems.length > 0) {
      console.error(`workload ${w.name}: ${engine.name} serves wrong variants, not timed:\n  ${problems.join("\n  ")}`);
      rows.push({ engine: engine.name, workload: w.name, evalsPerSec: NaN, nsPerEval: NaN, note: "WRONG RESULTS" });
      failures++;
      continue;
    }
    if (w.name === "a")
      console.log(`  workload a, ${engine.name.padEnd(22)} ${await distribution(engine, flagKeys[0]!, sample)}`);
    timed.push(engine);
  }
  const runners = timed.map((engine): Runner => {
    const ctxs = contexts.map((c) => engine.context(c));
    return bulk
      ? (start, n) => engine.runAll(ctxs, start, n)
      : (start, n) => engine.runOne(flagKeys[0]!, ctxs, start, n);
  });
  const perOp = await timeInterleaved(runners);
  timed.forEach((engine, i) => {
    const per = bulk ? w.flags.length : 1;
    const nsPerEval = perOp[i]!.wallNs / per;
    rows.push({
      engine: engine.name,
      workload: w.name,
      evalsPerSec: 1e9 / nsPerEval,
      nsPerEval,
      cpuNsPerEval: perOp[i]!.cpuNs / per,
    });
  });
  for (const e of engines) await e.close();
}

interface CompileFigures {
  coldMs: number;
  medianMs: number;
  cpuMs: number;
  heapMb: number;
  parseMs: number;
  flagdMs: number;
}

async function compile10k(): Promise<CompileFigures | undefined> {
  let compileOurs: typeof import("./peers/ours").compileOurs;
  let toNativeDoc: typeof import("./peers/ours").toNativeDoc;
  try {
    ({ compileOurs, toNativeDoc } = await import("./peers/ours"));
  } catch {
    return undefined;
  }
  const logical = asParsedJson({ flags: generateMixedFlags(10_000, 11, "big"), segments: [] });
  const doc = toNativeDoc(logical);
  // What the edge does with a snapshot: validate (zod) then compile. Timed apart; the goal is on compile.
  const p0 = nowNs();
  const parsed = EnvironmentDocSchema.safeParse(JSON.parse(JSON.stringify(doc)));
  const parseMs = Number(nowNs() - p0) / 1e6;
  if (!parsed.success) throw new Error("10k doc does not validate: " + parsed.error.message.slice(0, 500));

  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const t0 = nowNs();
  const env = compileOurs(doc);
  const coldMs = Number(nowNs() - t0) / 1e6;
  gc?.();
  gc?.();
  const heapMb = (process.memoryUsage().heapUsed - before) / (1 << 20);
  checksum += env.flags.length;

  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c = process.cpuUsage();
    const t = nowNs();
    checksum += compileOurs(doc).flags.length;
    times.push(Number(nowNs() - t) / 1e6);
    const cu = process.cpuUsage(c);
    cpuTimes.push((cu.user + cu.system) / 1000);
  }
  // flagd-core takes seconds for this (ajv validation, object-hash, json-logic build): opt-in.
  let flagdMs = NaN;
  if (process.env.BENCH_FLAGD_10K === "1") {
    const f0 = nowNs();
    checksum += createFlagdCore({ name: "10k", ...logical }).getFlags().size;
    flagdMs = Number(nowNs() - f0) / 1e6;
  }
  return { coldMs, medianMs: median(times), cpuMs: median(cpuTimes), heapMb, parseMs, flagdMs };
}

interface ColdFigures {
  singleLazyMs: number;
  singleEagerMs: number;
  bulkLazyMs: number;
  bulkEagerMs: number;
}

/**
 * The cold-isolate figures: each run a fresh `node` process (bench/cold-engine.ts) timing from the
 * 10,000-flag snapshot's KV text in memory to the answer's JSON; median of COLD_RUNS per mode, the
 * modes interleaved so machine load hits them alike.
 */
function coldFigures(): ColdFigures | undefined {
  const runs = Number(process.env.BENCH_COLD_RUNS ?? 7);
  const samples = new Map<ColdMode, number[]>(COLD_MODES.map((m) => [m, []]));
  for (let r = 0; r < runs; r++) {
    for (const mode of COLD_MODES) {
      const child = spawnSync(process.execPath, ["--import", "tsx", "bench/cold-engine.ts", mode], {
        encoding: "utf8",
      });
      const line = child.stdout.trim().split("\n").pop() ?? "";
      if (child.status !== 0 || !line.startsWith("{")) {
        console.error(`cold run ${mode} failed: ${child.stderr.slice(0, 500)}`);
        failures++;
        return undefined;
      }
      samples.get(mode)!.push((JSON.parse(line) as { ms: number }).ms);
    }
  }
  const m = (mode: ColdMode) => median(samples.get(mode)!);
  return {
    singleLazyMs: m("single-lazy"),
    singleEagerMs: m("single-eager"),
    bulkLazyMs: m("bulk-lazy"),
    bulkEagerMs: m("bulk-eager"),
  };
}

interface BulkFigures {
  fragmentsUs: number;
  stringifyUs: number;
}

/**
 * CPU per bulk answer of 500 flags in Node, warm: evaluateAll + the OFREP body, rendered as the
 * edge does (per-result fragments joined) and as it did before (JSON.stringify of a copy per
 * flag), interleaved. The body is flattened (as writing it to a response does).
 */
async function bulk500(): Promise<BulkFigures> {
  const doc = toNativeDoc(asParsedJson({ flags: generateMixedFlags(500, 13, "bulk"), segments: [] }));
  const read = readSnapshot(snapshotText({ environment: "bench", version: 1, publishedAt: "t" }, encodeDoc(doc)))!;
  const opened = openEnvironment(read.source);
  if (!opened.ok) throw new Error("500-flag environment does not open");
  const env = opened.value;
  const contexts = asParsedJson(generateContexts(CONTEXTS, 44)).map((c): EvaluationContext => ({ ...c }));
  const mask = CONTEXTS - 1;
  const body = (flagsJson: string) => {
    const text = `{"flags":${flagsJson},"metadata":{"version":1}}`;
    return text.charCodeAt(text.length >> 1); // flattens the joined string
  };
  const fragments: Runner = (start, n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += body(ofrepItemsJson(env.evaluateAll(contexts[(start + i) & mask]!)));
    return sum;
  };
  const stringify: Runner = (start, n) => {
    let sum = 0;
    for (let i = 0; i < n; i++)
      sum += body(JSON.stringify(env.evaluateAll(contexts[(start + i) & mask]!).map(toOfrepItem)));
    return sum;
  };
  const [a, b] = await timeInterleaved([fragments, stringify]);
  return { fragmentsUs: a!.cpuNs / 1000, stringifyUs: b!.cpuNs / 1000 };
}

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function printTable(): Record<string, number | null> {
  const ratios: Record<string, number | null> = {};
  console.log("\nengine                  workload       evals/s     ns/eval   ours/peer  cpu ns/eval");
  console.log("----------------------  --------  ------------  ----------  ----------  -----------");
  for (const wl of ["a", "b", "c"]) {
    const wr = rows.filter((r) => r.workload === wl);
    const ours = wr.find((r) => r.engine === OURS);
    const peers = wr.filter((r) => r.engine !== OURS && Number.isFinite(r.evalsPerSec));
    for (const r of wr) {
      const ratio = r.engine === OURS || !ours ? "" : fmt(ours.evalsPerSec / r.evalsPerSec, 2) + "x";
      console.log(
        `${r.engine.padEnd(22)}  ${wl.padEnd(8)}  ${fmt(r.evalsPerSec).padStart(12)}  ${fmt(r.nsPerEval, 1).padStart(10)}  ${ratio.padStart(10)}  ${fmt(r.cpuNsPerEval ?? NaN, 1).padStart(11)}${r.note ? "  " + r.note : ""}`,
      );
    }
    const fastest = peers.reduce<Row | undefined>(
      (best, r) => (!best || r.evalsPerSec > best.evalsPerSec ? r : best),
      undefined,
    );
    ratios[`workload_${wl}_ratio`] =
      ours && fastest && Number.isFinite(ours.evalsPerSec)
        ? Number((ours.evalsPerSec / fastest.evalsPerSec).toFixed(2))
        : null;
    // The same ratio on CPU time: steadier than wall time when other processes share the cores.
    const cpuFastest = peers.reduce<Row | undefined>(
      (best, r) => (!best || r.cpuNsPerEval! < best.cpuNsPerEval! ? r : best),
      undefined,
    );
    const cpuRatio =
      ours?.cpuNsPerEval && cpuFastest?.cpuNsPerEval ? fmt(cpuFastest.cpuNsPerEval / ours.cpuNsPerEval, 2) : "-";
    if (fastest)
      console.log(
        `${"".padEnd(22)}  ${wl.padEnd(8)}  fastest peer: ${fastest.engine}, ours/fastest = ${ratios[`workload_${wl}_ratio`] ?? "-"} (on cpu time: ${cpuRatio} vs ${cpuFastest?.engine})`,
      );
  }
  return ratios;
}

async function main() {
  const started = Date.now();
  if (!gc) console.error("global.gc is missing: run with node --expose-gc (heap figures will be noisy)");
  const load = loadavg()[0]!;
  if (load > 1.5)
    console.log(
      `warning: load average ${load.toFixed(1)}: other processes share the CPU, absolute figures are low; compare ratios (same rounds, interleaved) and the cpu column`,
    );
  console.log(
    `node ${process.version}, ${ROUNDS} rounds of ~${BATCH_MS} ms after ${WARMUP_MS} ms warm-up, median reported`,
  );
  const ours = await loadOurs();
  // BENCH_ENGINES=edgeflags,flagd-core narrows the run (e.g. for node --cpu-prof).
  const only = process.env.BENCH_ENGINES?.split(",");
  const factories = (
    [
      ...(ours ? [[OURS, ours] as [string, EngineFactory]] : []),
      ["flagd-core", flagdFactory(false)],
      ["flagd-core (interp.)", flagdFactory(true)],
      ["growthbook", createGrowthBook],
      ["unleash", createUnleash],
      ["launchdarkly", createLaunchDarkly],
    ] as Array<[string, EngineFactory]>
  ).filter(([name]) => !only || only.includes(name));
  // BENCH_PARTS=bulk,cold runs only those parts (engines, compile, bulk, cold); the JSON keeps every key.
  const parts = process.env.BENCH_PARTS?.split(",");
  const part = (name: string) => !parts || parts.includes(name);
  if (part("engines")) {
    console.log("workload a: one string flag, 3 rules (ends-with, in 50 codes, 50/50 rollout)");
    await runWorkload(workloadA(), generateContexts(CONTEXTS, 42), factories, false);
    console.log("workload b: 200 mixed flags, bulk evaluation per context");
    await runWorkload(workloadB(), generateContexts(CONTEXTS, 43), factories, true);
    console.log("workload c: boolean flag on a 100,000-key segment, half the contexts inside");
    await runWorkload(workloadC(), generateSegmentContexts(CONTEXTS, 99), factories, false);
  }
  console.log("10k-flag environment: compile time and retained heap");
  const compile = part("compile") ? await compile10k() : undefined;
  console.log("bulk answer of 500 flags: evaluate + OFREP body (fragments vs stringify)");
  const bulk = part("bulk") ? await bulk500() : undefined;
  console.log("cold isolate: fresh processes from the 10k-flag snapshot text to the first answer");
  const cold = part("cold") ? coldFigures() : undefined;

  const ratios = printTable();
  if (compile) {
    console.log(
      `\nedgeflags compile, 10,000 flags: ${fmt(compile.medianMs, 1)} ms median of 5 (cpu ${fmt(compile.cpuMs, 1)} ms; first/cold ${fmt(compile.coldMs, 1)} ms), retained heap ${fmt(compile.heapMb, 1)} MB`,
    );
    console.log(
      `  for reference: zod EnvironmentDoc parse of the same doc ${fmt(compile.parseMs, 1)} ms; flagd-core setConfigurations ${Number.isNaN(compile.flagdMs) ? "(BENCH_FLAGD_10K=1)" : fmt(compile.flagdMs, 1) + " ms"}`,
    );
  }
  if (bulk)
    console.log(
      `\nbulk answer, 500 flags (evaluate + OFREP body), cpu: ${fmt(bulk.fragmentsUs, 1)} µs from fragments; ${fmt(bulk.stringifyUs, 1)} µs stringified per request (before)`,
    );
  if (cold) {
    console.log(
      `cold isolate, 10,000 flags, KV text → answer (median of ${process.env.BENCH_COLD_RUNS ?? 7} fresh processes):`,
    );
    console.log(
      `  first single evaluation: ${fmt(cold.singleLazyMs, 2)} ms compiled on first use; ${fmt(cold.singleEagerMs, 1)} ms parsing and compiling everything (before)`,
    );
    console.log(
      `  first bulk answer (every flag): ${fmt(cold.bulkLazyMs, 1)} ms; ${fmt(cold.bulkEagerMs, 1)} ms (before)`,
    );
  }
  console.log("\nsetup per engine:");
  for (const [name, notes] of setupNotes) console.log(`  ${name}: ${notes}`);
  console.log(`\nchecksum ${checksum}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (failures > 0) process.exitCode = 1;
  console.log(
    JSON.stringify({
      ...ratios,
      compile_10k_ms: compile ? Number(compile.medianMs.toFixed(1)) : null,
      compile_10k_heap_mb: compile ? Number(compile.heapMb.toFixed(1)) : null,
      cold_single_10k_ms: cold ? Number(cold.singleLazyMs.toFixed(2)) : null,
      cold_single_10k_eager_ms: cold ? Number(cold.singleEagerMs.toFixed(1)) : null,
      cold_bulk_all_10k_ms: cold ? Number(cold.bulkLazyMs.toFixed(1)) : null,
      cold_bulk_all_10k_eager_ms: cold ? Number(cold.bulkEagerMs.toFixed(1)) : null,
      bulk500_us: bulk ? Number(bulk.fragmentsUs.toFixed(1)) : null,
      bulk500_stringify_us: bulk ? Number(bulk.stringifyUs.toFixed(1)) : null,
    }),
  );
}

await main();
