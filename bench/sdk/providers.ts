/**
 * The OpenFeature server providers `npm run bench:sdk` compares, each set up as its documentation
 * says for local evaluation, fed the same flag (bench/sdk/workload.ts):
 *
 * - `noop`: a provider that answers the caller's default at once: what the SDK costs by itself.
 *   (Not the SDK's NOOP_PROVIDER: that one is the unset default, which the SDK reports NOT_READY,
 *   so every call takes the SDK's error path, 40 % slower than a successful answer.)
 * - `edgeflags`: `EdgeflagsProvider` (edgeflags/openfeature) against `npm start`: definitions
 *   fetched once, then in-process; usage counted in memory and reported in batches.
 * - `flagd`: `@openfeature/flagd-provider` in-process with an offline file source.
 * - `launchdarkly`: `@launchdarkly/openfeature-node-server` over the Node SDK fed by TestData
 *   (no network, no events).
 * - `ofrep`: `@openfeature/ofrep-provider` against `npm start`: one HTTP request per evaluation.
 * @module
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LaunchDarklyProvider } from "@launchdarkly/openfeature-node-server";
import { FlagdProvider } from "@openfeature/flagd-provider";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import type { JsonValue, Provider, ResolutionDetails } from "@openfeature/server-sdk";
import { EdgeflagsProvider } from "../../src/sdk/node/openfeature";
import { toFlagdConfig } from "../peers/flagd";
import { ldTestData } from "../peers/launchdarkly";
import type { Workload } from "../workloads";

export const PROVIDERS = ["noop", "edgeflags", "flagd", "launchdarkly", "ofrep"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Where the providers that need one find their flags. */
export interface ProviderSetup {
  /** `npm start`'s base URL (edgeflags, ofrep). */
  baseUrl: string;
  /** A server key of the environment holding the workload (edgeflags, ofrep). */
  sdkKey: string;
  /** The workload as a flagd file (flagd). */
  flagdFile: string;
}

/** How each provider is set up, printed under the table. */
export const SETUP_NOTES: Record<ProviderName, string> = {
  noop: "a provider whose resolve* return Promise.resolve({ value: defaultValue, reason: 'STATIC' }): the SDK's own cost",
  edgeflags: "new EdgeflagsProvider({ baseUrl, sdkKey }) against npm start; evaluates in-process, counts usage",
  flagd: "new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath }) (flagd JSON file)",
  launchdarkly:
    "new LaunchDarklyProvider(key, { updateProcessor: TestData, sendEvents: false, diagnosticOptOut: true })",
  ofrep: "new OFREPProvider({ baseUrl, headers: { Authorization } }) against npm start: one POST per evaluation",
};

/** Answers the default, successfully: the floor every provider's evaluation adds to. */
class NoopProvider implements Provider {
  readonly metadata = { name: "noop" } as const;
  readonly runsOn = "server" as const;
  private answer<T>(value: T): Promise<ResolutionDetails<T>> {
    return Promise.resolve({ value, reason: "STATIC" });
  }
  resolveBooleanEvaluation(_key: string, defaultValue: boolean) {
    return this.answer(defaultValue);
  }
  resolveStringEvaluation(_key: string, defaultValue: string) {
    return this.answer(defaultValue);
  }
  resolveNumberEvaluation(_key: string, defaultValue: number) {
    return this.answer(defaultValue);
  }
  resolveObjectEvaluation<T extends JsonValue>(_key: string, defaultValue: T) {
    return this.answer(defaultValue);
  }
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** Writes the workload as the flagd file the flagd provider reads; returns its path. */
export function writeFlagdFile(dir: string, w: Workload): string {
  const file = join(dir, "flags.flagd.json");
  writeFileSync(file, toFlagdConfig(w));
  return file;
}

export async function createProvider(name: ProviderName, setup: ProviderSetup, w: Workload): Promise<Provider> {
  switch (name) {
    case "noop":
      return new NoopProvider();
    case "edgeflags":
      return new EdgeflagsProvider({ baseUrl: setup.baseUrl, sdkKey: setup.sdkKey });
    case "flagd":
      return new FlagdProvider({ resolverType: "in-process", offlineFlagSourcePath: setup.flagdFile }, silent);
    case "launchdarkly": {
      const td = await ldTestData(w);
      return new LaunchDarklyProvider("sdk-offline-bench", {
        updateProcessor: td.getFactory(),
        sendEvents: false,
        diagnosticOptOut: true,
        logger: silent,
      });
    }
    case "ofrep":
      return new OFREPProvider({ baseUrl: setup.baseUrl, headers: { Authorization: `Bearer ${setup.sdkKey}` } });
  }
}
