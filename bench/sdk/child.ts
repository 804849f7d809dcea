/**
 * One provider of `npm run bench:sdk`, in a process of its own (forked by bench/sdk.bench.ts):
 * the OpenFeature SDK's call sites then see one provider class, as in an application, instead of
 * five that would turn them megamorphic and charge whichever runs later. The parent drives it over
 * IPC: report the answers to check, calibrate, time one batch per round, close.
 *
 * Argument: the provider's name; environment BENCH_SDK_SETUP: the ProviderSetup as JSON.
 * @module
 */
import { OpenFeature } from "@openfeature/server-sdk";
import { consume } from "../workloads";
import { calibrate, timeBatch, type Runner } from "../timing";
import { createProvider, PROVIDERS, type ProviderName, type ProviderSetup } from "./providers";
import { CHECKED, FALLBACK, FLAG, sdkContexts, sdkWorkload, toEvaluationContext } from "./workload";

export type ToChild =
  | { type: "answers" }
  | { type: "calibrate"; batchMs: number; warmupMs: number }
  | { type: "batch" }
  | { type: "close" };
export type FromChild =
  | { type: "ready" }
  | { type: "answers"; values: unknown[] }
  | { type: "calibrated"; n: number }
  | { type: "batch"; wallNs: number; cpuNs: number }
  | { type: "failed"; error: string };

const name = process.argv[2] as ProviderName;
const reply = (m: FromChild) => process.send!(m);

async function main(): Promise<void> {
  if (!PROVIDERS.includes(name)) throw new Error(`unknown provider ${name}`);
  const setup = JSON.parse(process.env.BENCH_SDK_SETUP ?? "{}") as ProviderSetup;
  const w = sdkWorkload();
  await OpenFeature.setProviderAndWait(await createProvider(name, setup, w));
  const client = OpenFeature.getClient();
  const contexts = sdkContexts().map(toEvaluationContext);
  const mask = contexts.length - 1;
  // The loop an application runs: one awaited typed getter per evaluation.
  const run: Runner = async (start, n) => {
    let sum = 0;
    for (let i = 0; i < n; i++)
      sum += consume(await client.getStringValue(FLAG, FALLBACK, contexts[(start + i) & mask]!));
    return sum;
  };
  let state = { n: 1, start: 0, checksum: 0 };
  process.on("message", (m: ToChild) => {
    void (async () => {
      try {
        if (m.type === "answers") {
          const values: unknown[] = [];
          for (const c of contexts.slice(0, CHECKED)) values.push(await client.getStringValue(FLAG, FALLBACK, c));
          reply({ type: "answers", values });
        } else if (m.type === "calibrate") {
          // Calibrated again once warm: the first calibration's batches run cold code, and a
          // batch sized from them would be a fraction of batchMs.
          const warm = await calibrate(run, m.batchMs, m.warmupMs);
          state = await calibrate(run, m.batchMs, 0);
          state.start += warm.start;
          state.checksum += warm.checksum;
          reply({ type: "calibrated", n: state.n });
        } else if (m.type === "batch") {
          const t = await timeBatch(run, state.start, state.n);
          state.start += state.n;
          state.checksum += t.checksum;
          reply({ type: "batch", wallNs: t.wallNs, cpuNs: t.cpuNs });
        } else {
          await OpenFeature.close();
          process.exit(state.checksum >= 0 ? 0 : 1);
        }
      } catch (err) {
        reply({ type: "failed", error: (err as Error).stack ?? String(err) });
      }
    })();
  });
  reply({ type: "ready" });
}

main().catch((err) => {
  reply({ type: "failed", error: (err as Error).stack ?? String(err) });
  process.exit(1);
});
