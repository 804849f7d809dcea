/**
 * Bytes on the wire and in KV for the capacity estimates of docs/design.md: bulk OFREP answers
 * (raw and gzip) for 50 and 500 mixed flags, and the KV snapshot for 1,000 and 10,000 flags.
 * Run: `npm run bench:payload`. Prints one JSON line. Sizes only: no timing.
 * @module
 */
import { gzipSync } from "node:zlib";
import { compileEnvironment } from "../src/core/compile";
import { encodeDoc, snapshotText } from "../src/core/wire/snapshot-text";
import { ofrepItemsJson } from "../src/edge/ofrep";
import { toNativeDoc } from "./peers/ours";
import { generateContexts, generateMixedFlags } from "./workloads";

const out: Record<string, number> = {};
const contexts = generateContexts(64);

for (const n of [50, 500]) {
  const doc = toNativeDoc({ flags: generateMixedFlags(n), segments: [] });
  const compiled = compileEnvironment(doc);
  if (!compiled.ok) throw new Error("workload does not compile");
  let raw = 0;
  let gz = 0;
  for (const ctx of contexts) {
    const body = `{"flags":${ofrepItemsJson(compiled.value.evaluateAll(ctx as unknown as Parameters<typeof compiled.value.evaluateAll>[0]))},"metadata":{"version":1234}}`;
    raw += Buffer.byteLength(body);
    gz += gzipSync(body).length;
  }
  out[`bulk${n}_bytes`] = Math.round(raw / contexts.length);
  out[`bulk${n}_gzip_bytes`] = Math.round(gz / contexts.length);
}

for (const n of [1_000, 10_000]) {
  const doc = toNativeDoc({ flags: generateMixedFlags(n), segments: [] });
  const text = snapshotText(
    { environment: "production", version: 1234, publishedAt: new Date(0).toISOString() },
    encodeDoc(doc),
  );
  out[`snapshot${n / 1000}k_bytes`] = Buffer.byteLength(text);
  out[`snapshot${n / 1000}k_gzip_bytes`] = gzipSync(text).length;
}

console.log(JSON.stringify(out));
