/**
 * The official OpenFeature server SDK against a spawned server: an environment filled from a flagd
 * document, and clients whose OFREP provider is configured with only the base URL and the key header.
 * @module
 */
import { OpenFeature, type Client } from "@openfeature/server-sdk";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { expect } from "vitest";
import type { DevServer } from "./wrangler-dev";

/** Creates `env` (it must be new) and imports `doc` into it as one flagd document. */
export async function createFlagdEnv(server: DevServer, env: string, doc: unknown): Promise<void> {
  expect((await server.admin("PUT", `/environments/${env}`)).status).toBe(201);
  const imported = await server.admin("PUT", `/environments/${env}/flagd`, doc);
  expect(imported.status, imported.text).toBe(200);
}

/** A client on OpenFeature domain `domain`, its provider knowing only `baseUrl` and the key header. */
export async function ofrepClient(server: DevServer, domain: string, key: string): Promise<Client> {
  await OpenFeature.setProviderAndWait(
    domain,
    new OFREPProvider({ baseUrl: server.baseUrl, headers: { Authorization: `Bearer ${key}` } }),
  );
  return OpenFeature.getClient(domain);
}
