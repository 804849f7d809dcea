import { describe, expect, it } from "vitest";
import { EnvironmentHub, type HubClient, type StreamBindings } from "../../src/edge/stream-hub";

/** A relay binding that cannot be reached: these tests are about the hub's own bookkeeping. */
const unreachable = {
  STREAM_RELAY: { idFromName: () => { throw new Error("no relay here"); }, get: () => { throw new Error("no relay here"); } },
  STREAM_RELAY_SHARDS: "4",
  STREAM_HEARTBEAT_SECONDS: "1",
} as unknown as StreamBindings;

function fakeClient(): HubClient & { told: number[] } {
  const told: number[] = [];
  return {
    told,
    get version() { return told.at(-1) ?? 0; },
    notify: (v) => (told.push(v), true),
    end: () => {},
    alive: () => true,
  };
}

describe("EnvironmentHub heartbeat", () => {
  it("re-adds a client it dropped and tells it the version it missed, once", () => {
    const hub = new EnvironmentHub("env", unreachable, "shard-key", () => {}, () => {});
    const client = fakeClient();
    hub.version = 7;
    // Not in the hub (a tick took it for gone): its next heartbeat brings it back, told of 7.
    expect(hub.clients.has(client)).toBe(false);
    hub.heartbeat(client);
    expect(hub.clients.has(client)).toBe(true);
    expect(client.told).toEqual([7]);
    // Nothing new: no second event.
    hub.heartbeat(client);
    expect(client.told).toEqual([7]);
    hub.version = 8;
    hub.heartbeat(client);
    expect(client.told).toEqual([7, 8]);
  });

  it("tells a client nothing before the relay announced a version", () => {
    const hub = new EnvironmentHub("env", unreachable, "shard-key", () => {}, () => {});
    const client = fakeClient();
    hub.heartbeat(client);
    expect(client.told).toEqual([]);
    expect(hub.clients.size).toBe(1);
  });
});
