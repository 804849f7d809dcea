import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { edgeApp } from "../../src/edge/routes";
import { hubStats } from "../../src/edge/stream-hub";
import type { Env } from "../../src/env";
import type { EnvironmentStoreApi, StoreResult } from "../../src/core/wire/store-rpc";
import type { RelayStats } from "../../src/core/wire/stream-protocol";
import { relayName, relayShards } from "../../src/core/wire/stream-protocol";
import { eventually } from "../support/eventually";

const bindings = () => env as unknown as Env;
const decoder = new TextDecoder();
const ADMIN = { Authorization: "Bearer test-admin-token" };

function ok<T>(r: StoreResult<T>): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

/** One SSE client that records the refetch etags it is sent, and when each arrived. */
class Client {
  etags: string[] = [];
  times: number[] = [];
  ended = false;
  private constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {
    void this.pump();
  }
  /**
   * Through the app in this test's own request: with SELF.fetch each stream would be its own
   * request, and the pool's test runner may not read a stream that another request writes to
   * (the deployed runtime does: test/e2e/fan-out.node.test.ts covers that against wrangler dev).
   */
  static async open(url: string, env: Env = bindings()): Promise<Client> {
    const res = await edgeApp.request(url, {}, env);
    expect(res.status).toBe(200);
    return new Client(res.body!.getReader());
  }
  private async pump() {
    let text = "";
    for (;;) {
      const { value, done } = await this.reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return void (this.ended = true);
      text += decoder.decode(value);
      let cut: number;
      while ((cut = text.indexOf("\n\n")) >= 0) {
        const event = text.slice(0, cut);
        text = text.slice(cut + 2);
        const data = /^data: (.*)$/m.exec(event);
        if (data) {
          this.etags.push(JSON.parse(data[1]).etag);
          this.times.push(Date.now());
        }
      }
    }
  }
  close() {
    return this.reader.cancel();
  }
}

async function setUp(name: string) {
  const store = bindings().ENV_STORE.getByName(name) as unknown as EnvironmentStoreApi;
  ok(await store.create(name, "test"));
  const flag = (on: boolean) => ({
    key: "f",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: on ? "on" : "off",
    clientVisible: true,
  });
  ok(await store.putFlag(flag(false), "test"));
  const minted = ok(await store.mintKey("client", "test"));
  const bulk = await SELF.fetch("http://edge.test/ofrep/v1/evaluate/flags", {
    method: "POST",
    headers: { Authorization: `Bearer ${minted.key}` },
    body: "{}",
  });
  const { eventStreams } = (await bulk.json()) as { eventStreams: { url: string }[] };
  let on = false;
  const change = async () => ok(await store.putFlag(flag((on = !on)), "test")).version;
  return { store, url: eventStreams[0].url, change };
}

async function streams(name: string) {
  const res = await SELF.fetch(`http://edge.test/admin/v1/environments/${name}/streams`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as { clients: number; sockets: number; relays: number };
}

/** The relay shards of an environment that hold isolate sockets. */
async function busyRelays(name: string) {
  const out = [];
  for (let shard = 0; shard < relayShards(bindings()); shard++) {
    const stub = bindings().STREAM_RELAY.getByName(relayName(name, shard));
    const stats = await (stub as unknown as { stats(): Promise<RelayStats> }).stats();
    if (stats.isolates > 0) out.push(stub);
  }
  return out;
}

const hubOf = (name: string) => hubStats().find((h) => h.environment === name);

describe("change stream fan-out", () => {
  it("many SSE clients share one upstream socket; the environment DO holds one socket; each hears every change", async () => {
    const { url, change } = await setUp("fan");
    const clients = await Promise.all(Array.from({ length: 25 }, () => Client.open(url)));
    expect(hubOf("fan")).toEqual({ environment: "fan", clients: 25, connected: true });
    const got = await eventually(async () => {
      const s = await streams("fan");
      return s.clients === 25 && s;
    }, 5_000);
    expect(got).toEqual({ clients: 25, sockets: 1, relays: 1 });
    // The DO's only socket is one it accepted with the hibernation API (getWebSockets lists only those).
    const held = await runInDurableObject(
      bindings().ENV_STORE.getByName("fan"),
      (_, state) => state.getWebSockets().length,
    );
    expect(held).toBe(1);

    const version = await change();
    await eventually(() => clients.every((c) => c.etags.includes(String(version))), 5_000);
    expect(clients.every((c) => c.etags.at(-1) === String(version))).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("the last client leaving closes the isolate's socket, then the relay's", async () => {
    const { url } = await setUp("leave");
    const a = await Client.open(url);
    const b = await Client.open(url);
    await eventually(async () => (await streams("leave")).clients === 2, 5_000);
    await a.close();
    expect(hubOf("leave")?.clients).toBe(1);
    expect((await streams("leave")).sockets).toBe(1);
    await b.close();
    await eventually(async () => (await hubOf("leave")) === undefined, 5_000);
    expect(
      await eventually(async () => {
        const s = await streams("leave");
        return s.sockets === 0 && s.relays === 0 && s;
      }, 5_000),
    ).toEqual({ clients: 0, sockets: 0, relays: 0 });
  });

  it("the environment DO restarting mid-stream: the relay reconnects and every client is told to refetch", async () => {
    const { url, change } = await setUp("envdrop");
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.open(url)));
    await eventually(() => clients.every((c) => c.etags.length === 1), 5_000);
    // What a restart looks like from outside: every socket the DO held closes.
    await runInDurableObject(bindings().ENV_STORE.getByName("envdrop"), (_, state) => {
      for (const ws of state.getWebSockets()) ws.close(1012, "restarting");
    });
    await eventually(() => clients.every((c) => c.etags.length >= 2), 5_000);
    expect(clients.every((c) => c.etags.length >= 2 && !c.ended)).toBe(true);
    // And the new socket carries the next change.
    const version = await change();
    await eventually(() => clients.every((c) => c.etags.includes(String(version))), 5_000);
    expect(clients.every((c) => c.etags.includes(String(version)))).toBe(true);
    expect((await streams("envdrop")).sockets).toBe(1);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("a relay restarting mid-stream: the isolate reconnects and every client is told to refetch", async () => {
    const { url, change } = await setUp("relaydrop");
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.open(url)));
    await eventually(() => clients.every((c) => c.etags.length === 1), 5_000);
    const [relay] = await busyRelays("relaydrop");
    await runInDurableObject(relay, (_, state) => {
      for (const ws of state.getWebSockets()) ws.close(1012, "restarting");
    });
    await eventually(() => clients.every((c) => c.etags.length >= 2), 5_000);
    expect(clients.every((c) => c.etags.length >= 2 && !c.ended)).toBe(true);
    expect(hubOf("relaydrop")).toMatchObject({ clients: 5, connected: true });
    const version = await change();
    await eventually(() => clients.every((c) => c.etags.includes(String(version))), 5_000);
    expect(clients.every((c) => c.etags.includes(String(version)))).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("no herd: after the environment DO drops its sockets the refetches are spread over the window; a publish still reaches everyone at once", async () => {
    const { url, change } = await setUp("herd");
    // The hub of this environment is made by the first client, with these bindings: a 3 s spread.
    const spread: Env = { ...bindings(), STREAM_RESYNC_SPREAD_SECONDS: "3" };
    const clients = await Promise.all(Array.from({ length: 20 }, () => Client.open(url, spread)));
    await eventually(() => clients.every((c) => c.etags.length === 1), 5_000);
    const dropped = Date.now();
    await runInDurableObject(bindings().ENV_STORE.getByName("herd"), (_, state) => {
      for (const ws of state.getWebSockets()) ws.close(1012, "restarting");
    });
    await eventually(() => clients.every((c) => c.etags.length >= 2), 15_000);
    const resync = clients.map((c) => c.times[1]!);
    expect(clients.every((c) => c.etags[1] === c.etags[0])).toBe(true);
    // 20 uniform draws over 3 s: all within 1 s of each other has odds of about 1e-8. Before, one tick.
    expect(Math.max(...resync) - Math.min(...resync)).toBeGreaterThan(1_000);
    // Nobody waits past the window (plus the relay's reconnect and a busy machine).
    expect(Math.max(...resync) - dropped).toBeLessThan(3_000 + 5_000);

    // A fresh write is not spread: every client hears it together. (Spread over the 3 s window,
    // 20 arrivals would fall within 1.5 s of each other with odds of about 2e-5; the bound leaves
    // a busy machine room, and the stream's own 250 ms delivery timer.)
    const written = Date.now();
    const version = String(await change());
    await eventually(() => clients.every((c) => c.etags.includes(version)), 5_000);
    const fresh = clients.map((c) => c.times[c.etags.indexOf(version)]!);
    expect(Math.max(...fresh) - written).toBeLessThan(3_000);
    expect(Math.max(...fresh) - Math.min(...fresh)).toBeLessThan(1_500);
    await Promise.all(clients.map((c) => c.close()));
  });

  it("streams counts for an environment with no streams, and 404 for an unknown one", async () => {
    await setUp("quiet");
    expect(await streams("quiet")).toEqual({ clients: 0, sockets: 0, relays: 0 });
    const res = await SELF.fetch("http://edge.test/admin/v1/environments/nope-env/streams", { headers: ADMIN });
    expect(res.status).toBe(404);
  });
});
