/**
 * The in-process provider through a real outage of `npm start` (stopped, then started again on the
 * same port with the same state): READY → STALE (still answering from the last definitions) →
 * READY, and a second process starting from the first one's `cacheFile` while the server is down.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenFeature, ProviderEvents, ProviderStatus } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeflagsProvider } from "../../src/sdk/node/openfeature";
import { eventually, SERVER_HOOK_TIMEOUT, startDevServer, tempDir, type DevServer } from "../support/wrangler-dev";

const ENV = "sdk-outage";
const FLAG = { key: "checkout", type: "string", variants: { old: "old", new: "new" }, defaultVariant: "old" };

describe("EdgeflagsProvider through a server outage", { timeout: 120_000 }, () => {
  let server: DevServer | undefined;
  const persistDir = tempDir();
  const dir = mkdtempSync(join(tmpdir(), "edgeflags-sdk-cache-"));
  const cacheFile = join(dir, "flags.json");
  let key: string;

  const provider = () =>
    new EdgeflagsProvider({
      baseUrl: server!.baseUrl,
      sdkKey: key,
      cacheFile,
      usage: false,
      retryMinMs: 100,
      retryMaxMs: 500,
    });

  beforeAll(async () => {
    server = await startDevServer({ persistDir });
    key = await server.mintKey(ENV, "server");
    expect((await server.admin("PUT", `/environments/${ENV}/flags/checkout`, FLAG)).status).toBe(201);
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await OpenFeature.close();
    await server?.stop();
    rmSync(persistDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("READY → STALE while the server is down, answering from the last definitions → READY; a cacheFile start while it is down", async () => {
    const first = provider();
    const events: string[] = [];
    for (const e of [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error])
      first.events.addHandler(e, () => events.push(e));
    await OpenFeature.setProviderAndWait("sdk-outage-1", first);
    const client = OpenFeature.getClient("sdk-outage-1");
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringValue("checkout", "code-default")).toBe("old");
    // The definitions reach the cache file.
    await eventually(
      () => JSON.parse(readFileSync(cacheFile, "utf8")).snapshot.doc.flags[0].key === "checkout",
      5_000,
      50,
    );

    const port = server!.port;
    await server!.stop({ keepState: true });
    await eventually(() => client.providerStatus === ProviderStatus.STALE, 10_000, 50);
    expect(await client.getStringDetails("checkout", "code-default")).toMatchObject({
      value: "old",
      variant: "old",
      reason: "STATIC",
    });

    // A new process while the server is down: READY from the cache file, answering.
    const second = provider();
    await OpenFeature.setProviderAndWait("sdk-outage-2", second);
    const secondClient = OpenFeature.getClient("sdk-outage-2");
    expect(secondClient.providerStatus).toBe(ProviderStatus.READY);
    expect(await secondClient.getStringDetails("checkout", "code-default")).toMatchObject({
      value: "old",
      variant: "old",
    });

    server = await startDevServer({ persistDir, port });
    await eventually(() => client.providerStatus === ProviderStatus.READY, 15_000, 50);
    expect(events).toEqual([ProviderEvents.Stale, ProviderEvents.Ready]);

    // Both follow changes again.
    const write = await server.admin("PUT", `/environments/${ENV}/flags/checkout`, { ...FLAG, defaultVariant: "new" });
    expect(write.status, write.text).toBe(200);
    await eventually(
      async () =>
        (await client.getStringValue("checkout", "x")) === "new" &&
        (await secondClient.getStringValue("checkout", "x")) === "new",
      10_000,
      50,
    );
    expect(secondClient.providerStatus).toBe(ProviderStatus.READY);
  });
});
