/**
 * `npm run bench:sdk`'s setup (bench/sdk/): the providers that need no server, set up exactly as
 * the benchmark sets them up, answer what the flag's definition says; edgeflags, given the same
 * flagd document the benchmark imports into `npm start`, splits the rollout as flagd does; and
 * the check the benchmark runs before timing does catch wrong answers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenFeature, type Provider } from "@openfeature/server-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { compileEnvironment } from "../../src/core/compile";
import { importFlagd } from "../../src/core/flagd/import";
import { toFlagdConfig } from "../../bench/peers/flagd";
import { expectedDecision } from "../../bench/workloads";
import { createProvider, writeFlagdFile, type ProviderName } from "../../bench/sdk/providers";
import {
  CHECKED,
  FALLBACK,
  FLAG,
  sdkContexts,
  sdkWorkload,
  toEvaluationContext,
  variantsOf,
  wrongAnswers,
} from "../../bench/sdk/workload";

const w = sdkWorkload();
const contexts = sdkContexts().slice(0, CHECKED);
const dir = mkdtempSync(join(tmpdir(), "edgeflags-sdk-workload-"));
const opened: Provider[] = [];

afterAll(async () => {
  for (const p of opened) await p.onClose?.();
  rmSync(dir, { recursive: true, force: true });
});

/** The values a provider answers for the checked contexts, through an OpenFeature client of its own domain. */
async function answers(name: ProviderName): Promise<unknown[]> {
  const provider = await createProvider(
    name,
    { baseUrl: "http://127.0.0.1:9", sdkKey: "unused", flagdFile: writeFlagdFile(dir, w) },
    w,
  );
  opened.push(provider);
  const domain = `bench-sdk-${name}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  const values: unknown[] = [];
  for (const c of contexts) values.push(await client.getStringValue(FLAG, FALLBACK, toEvaluationContext(c)));
  return values;
}

describe("bench:sdk workload", () => {
  it("flagd in-process (offline file) and LaunchDarkly (TestData) answer the definition; edgeflags splits as flagd", async () => {
    const flagd = await answers("flagd");
    const launchdarkly = await answers("launchdarkly");
    expect(wrongAnswers(w, contexts, flagd)).toEqual([]);
    expect(wrongAnswers(w, contexts, launchdarkly)).toEqual([]);
    // The three variants all occur: the rules and the rollout were taken.
    expect(new Set(variantsOf(w, flagd))).toEqual(new Set(["A", "B", "C"]));

    const doc = importFlagd(JSON.parse(toFlagdConfig(w)));
    if (!doc.ok) throw new Error(JSON.stringify(doc.errors));
    const compiled = compileEnvironment(doc.value);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const ours = contexts.map(
      (c) => compiled.value.evaluate(FLAG, toEvaluationContext(c) as Record<string, unknown>).value,
    );
    expect(variantsOf(w, ours)).toEqual(variantsOf(w, flagd));
  }, 60_000);

  it("the check before timing refuses wrong answers", () => {
    // What the definition serves (a rollout's first variant where the rollout decides).
    const flag = w.flags[0]!;
    const right = contexts.map((c) => {
      const decided = expectedDecision(flag, c, w.segments);
      return flag.variants[typeof decided === "string" ? decided : decided[0]!];
    });
    expect(wrongAnswers(w, contexts, right)).toEqual([]);
    // The default (what a provider that failed answers), one wrong variant, a missing answer.
    expect(
      wrongAnswers(
        w,
        contexts,
        right.map(() => FALLBACK),
      ),
    ).toHaveLength(5);
    const swapped = [...right];
    const i = contexts.findIndex((c) => c.email.endsWith("@example.com"));
    swapped[i] = "variant-c";
    expect(wrongAnswers(w, contexts, swapped)).toEqual([expect.stringContaining(contexts[i]!.targetingKey)]);
    expect(wrongAnswers(w, contexts, right.slice(1))[0]).toBe(`${CHECKED - 1} answers for ${CHECKED} contexts`);
  });
});
