/**
 * Change-stream counts: what a relay shard reports to the admin layer, and the `GET …/streams`
 * answer built from them (the protocol itself is in ../stream-protocol.ts).
 * @module
 */
import * as z from "zod/mini";

/** A relay shard's answer to `stats()`. */
export const RelayStats = z.object({
  /** Isolate sockets held. */
  isolates: z.int(),
  /** SSE clients those isolates last reported. */
  clients: z.int(),
  /** Whether the relay's own socket to the environment DO is open. */
  upstream: z.boolean(),
});
export type RelayStats = z.infer<typeof RelayStats>;

export const StreamCounts = z.object({
  clients: z
    .int()
    .check(
      z.describe(
        "SSE clients connected to the environment, as isolates last reported them (approximate while clients come and go).",
      ),
    ),
  sockets: z
    .int()
    .check(z.describe("WebSockets held by the environment's Durable Object itself: at most the relay shard count.")),
  relays: z.int().check(z.describe("Relay shards holding at least one isolate.")),
});
export type StreamCounts = z.infer<typeof StreamCounts>;
