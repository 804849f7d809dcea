import { describe, expect, it } from "vitest";
import { EnvironmentHub, type HubClient, type StreamBindings } from "../../src/edge/stream-hub";
import { parseStreamMessage, resyncSpreadMs, versionMessage } from "../../src/core/wire/stream-protocol";

/** A relay binding that cannot be reached: these tests are about the hub's own bookkeeping. */
const unreachable = {
  STREAM_RELAY: {
    idFromName: () => {
      throw new Error("no relay here");
    },
    get: () => {
      throw new Error("no relay here");
    },
  },
  STREAM_RELAY_SHARDS: "4",
  STREAM_HEARTBEAT_SECONDS: "1",
} as unknown as StreamBindings;

function fakeClient(): HubClient & { told: number[] } {
  const told: number[] = [];
  return {
    told,
    get version() {
      return told.at(-1) ?? 0;
    },
    notify: (v) => (told.push(v), true),
    end: () => {},
    alive: () => true,
  };
}

describe("EnvironmentHub heartbeat", () => {
  it("re-adds a client it dropped and tells it the version it missed, once", () => {
    const hub = new EnvironmentHub(
      "env",
      unreachable,
      "shard-key",
      () => {},
      () => {},
    );
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
    const hub = new EnvironmentHub(
      "env",
      unreachable,
      "shard-key",
      () => {},
      () => {},
    );
    const client = fakeClient();
    hub.heartbeat(client);
    expect(client.told).toEqual([]);
    expect(hub.clients.size).toBe(1);
  });
});

describe("EnvironmentHub announcing a version", () => {
  /** A client that records the delay each version was given. */
  function delayed(): HubClient & { got: [number, number][] } {
    const got: [number, number][] = [];
    return {
      got,
      get version() {
        return got.at(-1)?.[0] ?? 0;
      },
      notify: (v, d = 0) => (got.push([v, d]), true),
      end: () => {},
      alive: () => true,
    };
  }
  const draws = [0, 0.25, 0.5, 0.999];

  it("a publish reaches every client at once; a resync gives each its own delay within the spread", () => {
    let i = 0;
    const hub = new EnvironmentHub(
      "env",
      { ...unreachable, STREAM_RESYNC_SPREAD_SECONDS: "4" },
      "k",
      () => {},
      () => {},
      () => draws[i++ % draws.length]!,
    );
    const clients = draws.map(() => delayed());
    for (const c of clients) hub.clients.add(c);
    hub.announce(8, false);
    expect(clients.map((c) => c.got)).toEqual(draws.map(() => [[8, 0]]));
    hub.announce(8, true);
    expect(clients.map((c) => c.got[1])).toEqual([
      [8, 0],
      [8, 1000],
      [8, 2000],
      [8, 3996],
    ]);
  });

  it("a spread of 0 turns it off; the default is 5 s; the flag survives the wire", () => {
    const hub = new EnvironmentHub(
      "env",
      { ...unreachable, STREAM_RESYNC_SPREAD_SECONDS: "0" },
      "k",
      () => {},
      () => {},
      () => 0.9,
    );
    const c = delayed();
    hub.clients.add(c);
    hub.announce(3, true);
    expect(c.got).toEqual([[3, 0]]);
    expect(resyncSpreadMs({})).toBe(5_000);
    expect(resyncSpreadMs({ STREAM_RESYNC_SPREAD_SECONDS: "nope" })).toBe(5_000);
    expect(resyncSpreadMs({ STREAM_RESYNC_SPREAD_SECONDS: "600" })).toBe(60_000);
    expect(parseStreamMessage(versionMessage(4, true))).toEqual({ type: "version", version: 4, resync: true });
    expect(parseStreamMessage(versionMessage(4))).toEqual({ type: "version", version: 4, resync: false });
  });
});
