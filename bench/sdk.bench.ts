/**
 * `npm run bench:sdk`: the cost of one flag evaluation through the OpenFeature server SDK's client
 * (`await client.getStringValue(flag, default, context)`), per provider: edgeflags' in-process
 * `EdgeflagsProvider` against the SDK's own no-op provider (the floor any provider adds to),
 * flagd's and LaunchDarkly's in-process providers, and the OFREP provider against `npm start`
 * (the remote baseline: one HTTP request per evaluation). Same flag and contexts for all
 * (bench/sdk/workload.ts); each provider's answers are checked against the flag's definition
 * before it is timed.
 *
 * Method: each provider runs in its own process (bench/sdk/child.ts says why). Each calibrates a
 * batch of about BENCH_BATCH_MS (50) and warms up for BENCH_WARMUP_MS (1000); then BENCH_ROUNDS
 * (31) rounds time one batch of every provider in turn, so load from other processes hits them
 * alike; the median per provider is reported (wall, and CPU of the provider's process).
 * `npm start` runs throughout (edgeflags fetched its definitions from it, and OFREP asks it).
 *
 * Last line: one JSON object: `sdk_ns` (edgeflags), `noop_ns`, one `<peer>_ns` per peer,
 * `sdk_over_noop`, and the load average.
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { startDevServer, tempDir } from "../test/support/wrangler-dev";
import type { FromChild, ToChild } from "./sdk/child";
import { PROVIDERS, SETUP_NOTES, writeFlagdFile, type ProviderName, type ProviderSetup } from "./sdk/providers";
import { CHECKED, FLAG, sdkContexts, sdkWorkload, variantsOf, wrongAnswers } from "./sdk/workload";
import { toFlagdConfig } from "./peers/flagd";
import { median } from "./timing";

const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 50);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const ENV = "bench-sdk";
/** Providers whose split is flagd's fractional (same hash): their variants must agree exactly. */
const SAME_SPLIT: ProviderName[] = ["edgeflags", "flagd", "ofrep"];
/** Each provider's key on the JSON line. */
const JSON_KEY: Record<ProviderName, string> = {
  noop: "noop_ns",
  edgeflags: "sdk_ns",
  flagd: "flagd_ns",
  launchdarkly: "launchdarkly_ns",
  ofrep: "ofrep_ns",
};

/** A forked provider process and a way to ask it one thing at a time. */
class Child {
  private waiting: ((m: FromChild) => void) | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: ProviderName,
    private readonly proc: ChildProcess,
  ) {
    proc.on("message", (m: FromChild) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(m);
    });
    this.exited = new Promise((r) => proc.once("exit", () => r()));
    void this.exited.then(() => this.waiting?.({ type: "failed", error: `${name}: process exited` }));
  }

  /** The next message from the child (after sending `m`, when given). */
  async ask<T extends FromChild["type"]>(type: T, m?: ToChild): Promise<Extract<FromChild, { type: T }>> {
    const answer = new Promise<FromChild>((r) => (this.waiting = r));
    if (m) this.proc.send(m);
    const got = await answer;
    if (got.type !== type)
      throw new Error(`${this.name}: ${got.type === "failed" ? got.error : `expected ${type}, got ${got.type}`}`);
    return got as Extract<FromChild, { type: T }>;
  }

  async close(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.send({ type: "close" } satisfies ToChild);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

function start(name: ProviderName, setup: ProviderSetup): Child {
  const proc = fork(join(import.meta.dirname, "sdk", "child.ts"), [name], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, NODE_ENV: "production", BENCH_SDK_SETUP: JSON.stringify(setup) },
  });
  return new Child(name, proc);
}

const fmt = (ns: number) =>
  ns >= 10_000 ? `${(ns / 1000).toFixed(0)} µs` : `${Math.round(ns).toLocaleString("en-US")} ns`;

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  const w = sdkWorkload();
  const dir = tempDir("edgeflags-bench-sdk-");
  const server = await startDevServer();
  const children: Child[] = [];
  let failed = false;
  try {
    const sdkKey = await server.mintKey(ENV, "server");
    const imported = await server.admin("PUT", `/environments/${ENV}/flagd`, JSON.parse(toFlagdConfig(w)));
    if (imported.status !== 200) throw new Error(`import into ${ENV}: ${imported.status} ${imported.text}`);
    const setup: ProviderSetup = { baseUrl: server.baseUrl, sdkKey, flagdFile: writeFlagdFile(dir, w) };

    // One at a time: a provider's start-up (JIT, first fetch) must not land in another's timing.
    const contexts = sdkContexts().slice(0, CHECKED);
    const answers = new Map<ProviderName, unknown[]>();
    for (const name of PROVIDERS) {
      const child = start(name, setup);
      await child.ask("ready");
      const { values } = await child.ask("answers", { type: "answers" });
      answers.set(name, values);
      // The no-op provider answers the default by design: it has nothing to check.
      const wrong = name === "noop" ? [] : wrongAnswers(w, contexts, values);
      if (wrong.length > 0) {
        console.error(`${name} answers wrongly, not timed:\n  ${wrong.join("\n  ")}`);
        failed = true;
        await child.close();
        continue;
      }
      children.push(child);
    }
    const reference = variantsOf(w, answers.get("flagd") ?? []);
    for (const name of SAME_SPLIT) {
      const mine = variantsOf(w, answers.get(name) ?? []);
      const differ = mine.findIndex((v, i) => v !== reference[i]);
      if (differ >= 0) {
        console.error(
          `${name} and flagd split context ${contexts[differ]!.targetingKey} differently: ${mine[differ]} vs ${reference[differ]}`,
        );
        failed = true;
      }
    }

    for (const child of children) {
      const { n } = await child.ask("calibrated", { type: "calibrate", batchMs: BATCH_MS, warmupMs: WARMUP_MS });
      console.log(`  ${child.name.padEnd(13)} ${n} evaluations per batch`);
    }
    const wall = new Map<ProviderName, number[]>(children.map((c) => [c.name, []]));
    const cpu = new Map<ProviderName, number[]>(children.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const child of children) {
        const t = await child.ask("batch", { type: "batch" });
        wall.get(child.name)!.push(t.wallNs);
        cpu.get(child.name)!.push(t.cpuNs);
      }
    }

    const loadAfter = loadavg()[0]!;
    const ns = (name: ProviderName) => (wall.has(name) ? median(wall.get(name)!) : NaN);
    const noop = ns("noop");
    console.log(
      `\nnpm run bench:sdk, ${started.toISOString()}; node ${process.version}; load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`,
    );
    console.log(
      `flag ${FLAG} (email ends-with, country in 50 codes, 50/50 rollout), ${sdkContexts().length} contexts; ${ROUNDS} rounds of ~${BATCH_MS} ms, median\n`,
    );
    console.log("| provider | per evaluation | CPU per evaluation | × no-op | × edgeflags |");
    console.log("|---|---|---|---|---|");
    for (const child of children) {
      const v = ns(child.name);
      console.log(
        `| ${child.name} | ${fmt(v)} | ${fmt(median(cpu.get(child.name)!))} | ${(v / noop).toFixed(2)} | ${(v / ns("edgeflags")).toFixed(1)} |`,
      );
    }
    console.log("");
    for (const name of PROVIDERS) console.log(`  ${name}: ${SETUP_NOTES[name]}`);
    const peers = PROVIDERS.filter((p) => p !== "noop" && p !== "edgeflags");
    const sdk = ns("edgeflags");
    const fastestPeer = Math.min(...peers.map(ns).filter((v) => !Number.isNaN(v)));
    console.log(
      `\nedgeflags ${(sdk / noop).toFixed(2)}× the no-op floor (goal ≤ 1.2×); the fastest peer takes ${(fastestPeer / sdk).toFixed(1)}× as long as edgeflags`,
    );
    const line: Record<string, number | string | null> = { date: started.toISOString() };
    for (const name of PROVIDERS) line[JSON_KEY[name]] = wall.has(name) ? Math.round(ns(name)) : null;
    line.sdk_over_noop = Number((sdk / noop).toFixed(3));
    line.load_before = Number(loadBefore.toFixed(2));
    line.load_after = Number(loadAfter.toFixed(2));
    console.log(JSON.stringify(line));
  } finally {
    for (const child of children) await child.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

await main();
