/**
 * `GET /admin/v1/environments/{env}/streams` → `{"clients":N,"sockets":M,"relays":K}`: SSE clients
 * connected to the environment (as the isolates last reported them to their relays, every few
 * seconds, so approximate while clients come and go), WebSockets held by the environment's
 * Durable Object itself (exact), and relay shards holding at least one isolate (exact per relay).
 * Asks the environment DO and each of the STREAM_RELAY_SHARDS relays once; a relay that does not
 * answer is left out of the counts rather than guessed.
 * @module
 */
import { Hono } from "hono";
import { readAccess, type EnvironmentEnv } from "./access";
import { storeErrorResponse } from "./errors";
import type { RelayStats } from "../core/wire/stream-protocol";
import { relayName, relayShards } from "../core/wire/stream-protocol";

export const streamsApp = new Hono<EnvironmentEnv>();

streamsApp.get("/streams", readAccess, async (c) => {
  const environment = c.var.environment;
  const shards = Array.from({ length: relayShards(c.env) }, (_, shard) => {
    const relay = c.env.STREAM_RELAY.getByName(relayName(environment, shard)) as unknown as {
      stats(): Promise<RelayStats>;
    };
    return relay.stats().catch((err: unknown) => {
      console.error(
        `streams: relay ${shard} of ${environment} did not answer`,
        err instanceof Error ? err.message : err,
      );
      return null;
    });
  });
  const [held, ...relays] = await Promise.all([c.var.store.streamSockets(), ...shards]);
  if (!held.ok) return storeErrorResponse(c, held.error);
  let clients = 0;
  let inUse = 0;
  for (const r of relays) {
    if (!r || r.isolates === 0) continue;
    inUse++;
    clients += r.clients;
  }
  return c.json({ clients, sockets: held.value.sockets, relays: inUse });
});
