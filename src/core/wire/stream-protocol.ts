/**
 * The change stream's wire protocol between its hops, in one place:
 *
 *   environment DO ──ws──► relay DO (K shards per environment) ──ws──► isolate hub ──SSE──► browsers
 *
 * - Down every hop: {@link VersionMessage} `{"type":"version","version":N}` after each publish, and
 *   once on every (re)connect with the version the sender knows and `"resync":true`, so a hop that
 *   was away tells its clients to refetch (a change may have been missed; a refetch of an
 *   unchanged version is a 304). A relay forwards the flag as it came. Isolates tell their SSE
 *   clients of a publish at once, and of a resync each after its own random delay within
 *   {@link resyncSpreadMs}: a store or relay deploy drops every hop at the same moment, and
 *   2,000 browsers refetching in the same millisecond are a herd.
 * - Relay → isolate: `{"type":"tick"}` every few seconds. Workers forbid touching a WebSocket from
 *   any request but the one that opened it, so the isolate does its socket work (report its client
 *   count, close the socket once its last client has left) when a tick arrives on that socket.
 * - Isolate → relay: {@link ClientsReport} `{"type":"clients","count":N}`, answering ticks.
 * - A relay closes isolate sockets with {@link GONE_CLOSE_CODE} when the environment does not exist
 *   (deleted): hubs then end their SSE streams instead of reconnecting.
 * @module
 */
import { SUBSCRIBE_PATH, type VersionMessage } from "./store-rpc";

export { SUBSCRIBE_PATH, type VersionMessage };

/** What a relay shard holds (admin `…/streams`). */
export type { RelayStats } from "./dto/streams";

export interface ClientsReport {
  type: "clients";
  count: number;
}

export const TICK_MESSAGE = '{"type":"tick"}';
/** Close code (application range 4000-4999) for "this environment does not exist". */
export const GONE_CLOSE_CODE = 4404;
/** Heartbeat of SSE streams (comments to browsers, key re-checks); relays tick at most 5 s apart. */
export const HEARTBEAT_MS = 25_000;

/** STREAM_HEARTBEAT_SECONDS (tests shorten it), else {@link HEARTBEAT_MS}. */
export function heartbeatMs(env: { STREAM_HEARTBEAT_SECONDS?: string }): number {
  const seconds = Number(env.STREAM_HEARTBEAT_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(50, seconds * 1000) : HEARTBEAT_MS;
}

/** Relay shards per environment unless STREAM_RELAY_SHARDS says otherwise. */
export const DEFAULT_RELAY_SHARDS = 16;
/** Most relay shards an environment may be configured with (the admin count asks each one). */
export const MAX_RELAY_SHARDS = 256;

export function versionMessage(version: number, resync = false): string {
  return JSON.stringify(
    (resync ? { type: "version", version, resync: true } : { type: "version", version }) satisfies VersionMessage,
  );
}

/** Default window a resync's refetch events are spread over. */
export const RESYNC_SPREAD_MS = 5_000;

/** STREAM_RESYNC_SPREAD_SECONDS (0 turns the spread off), else {@link RESYNC_SPREAD_MS}; at most 60 s. */
export function resyncSpreadMs(env: { STREAM_RESYNC_SPREAD_SECONDS?: string }): number {
  const raw = env.STREAM_RESYNC_SPREAD_SECONDS;
  const seconds = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(60_000, Math.round(seconds * 1000)) : RESYNC_SPREAD_MS;
}

type Parsed =
  | { type: "version"; version: number; resync: boolean }
  | { type: "clients"; count: number }
  | { type: "tick" }
  | null;

/** One message of the protocol, or null for anything else (including autoresponse pongs). */
export function parseStreamMessage(data: unknown): Parsed {
  if (typeof data !== "string" || data.length > 200) return null;
  if (data === TICK_MESSAGE) return { type: "tick" };
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== "object") return null;
  const m = msg as Record<string, unknown>;
  if (m.type === "version" && Number.isInteger(m.version) && (m.version as number) >= 0)
    return { type: "version", version: m.version as number, resync: m.resync === true };
  if (m.type === "clients" && Number.isInteger(m.count) && (m.count as number) >= 0)
    return { type: "clients", count: m.count as number };
  return null;
}

/** Reconnect delay after `attempt` failures: 100 ms doubling to 10 s, with ±50 % jitter so hops restarting together do not reconnect in lockstep. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 100 * 2 ** Math.min(attempt, 7));
  return Math.round(base * (0.5 + random()));
}

/** The relay shard count from STREAM_RELAY_SHARDS (1 to {@link MAX_RELAY_SHARDS}). */
export function relayShards(env: { STREAM_RELAY_SHARDS?: string }): number {
  const n = Number(env.STREAM_RELAY_SHARDS);
  return Number.isInteger(n) && n >= 1 && n <= MAX_RELAY_SHARDS ? n : DEFAULT_RELAY_SHARDS;
}

/** The relay Durable Object name of one shard of an environment. */
export function relayName(environment: string, shard: number): string {
  return `${environment}#${shard}`;
}
