/**
 * Cold-isolate figures for `npm run bench` (bench/engine.bench.ts), each measured in a fresh
 * Node process so that no engine code has run (or been optimised) before the timed part:
 *
 *   node --import tsx bench/cold-engine.ts <mode>
 *
 * prints `{"ms": …}`: from the 10,000-flag snapshot's KV text in memory (built before timing, as
 * the store publishes it) to the answer's JSON text. Modes:
 * - single-lazy: read the head, open, parse + compile the one flag, evaluate, render (the edge now)
 * - single-eager: JSON.parse the whole value, compile every flag, evaluate, render (the edge before)
 * - bulk-lazy / bulk-eager: the same to a bulk answer of every flag
 * @module
 */
import { compileEnvironment } from "../src/core/compile";
import type { EvaluationContext } from "../src/core/evaluation-types";
import { openEnvironment } from "../src/core/lazy-compile";
import type { Snapshot } from "../src/core/wire/kv-layout";
import { encodeDoc, readSnapshot, snapshotText } from "../src/core/wire/snapshot-text";
import { ofrepItemsJson, ofrepJson } from "../src/edge/ofrep";
import { toNativeDoc } from "./peers/ours";
import { asParsedJson, generateMixedFlags } from "./workloads";

export const COLD_MODES = ["single-lazy", "single-eager", "bulk-lazy", "bulk-eager"] as const;
export type ColdMode = (typeof COLD_MODES)[number];

/** The 10,000 flags of compile10k in engine.bench.ts; the evaluated one has a rule. */
export const COLD_FLAGS = 10_000;
const KEY = "big-7778";
const CONTEXT: EvaluationContext = {
  targetingKey: "user-1",
  plan: "pro",
  country: "DE",
  email: "ada@example.com",
  age: 30,
};

export function coldSnapshotText(flags = COLD_FLAGS): string {
  const doc = toNativeDoc(asParsedJson({ flags: generateMixedFlags(flags, 11, "big"), segments: [] }));
  return snapshotText({ environment: "bench", version: 1, publishedAt: "2026-12-03T00:00:00.000Z" }, encodeDoc(doc));
}

function run(mode: ColdMode, text: string): string {
  if (mode === "single-lazy" || mode === "bulk-lazy") {
    const read = readSnapshot(text);
    if (!read) throw new Error("snapshot text does not read");
    const env = openEnvironment(read.source);
    if (!env.ok) throw new Error(JSON.stringify(env.errors));
    return mode === "single-lazy"
      ? ofrepJson(env.value.evaluate(KEY, CONTEXT))
      : ofrepItemsJson(env.value.evaluateAll(CONTEXT));
  }
  const snapshot = JSON.parse(text) as Snapshot;
  const env = compileEnvironment(snapshot.doc);
  if (!env.ok) throw new Error(JSON.stringify(env.errors));
  return mode === "single-eager"
    ? ofrepJson(env.value.evaluate(KEY, CONTEXT))
    : ofrepItemsJson(env.value.evaluateAll(CONTEXT));
}

const mode = process.argv[2] as ColdMode | undefined;
if (mode !== undefined) {
  if (!COLD_MODES.includes(mode)) throw new Error(`mode must be one of ${COLD_MODES.join(", ")}`);
  // Flat, as KV hands a value over (a string built by concatenation would be flattened on first read).
  const text = Buffer.from(coldSnapshotText(), "utf8").toString("utf8");
  const t0 = performance.now();
  const answer = run(mode, text);
  const ms = performance.now() - t0;
  if (!answer.startsWith(mode.startsWith("single") ? `{"key":"${KEY}"` : '[{"key":"big-0"'))
    throw new Error(`unexpected answer ${answer.slice(0, 200)}`);
  console.log(JSON.stringify({ ms }));
}
