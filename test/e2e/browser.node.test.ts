/**
 * A browser app: headless Debian Chromium loads a page (served by this test on its own origin, so
 * every OFREP call is cross-origin and needs CORS) that bundles `@openfeature/web-sdk` and
 * `@openfeature/ofrep-web-provider`, configured with a client key. It must see client-visible
 * flags only, and notice admin changes through polling and through the SSE change stream.
 */
import { createServer, type Server } from "node:http";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser";
import { freePort, repoRoot, startDevServer, type DevServer, SERVER_HOOK_TIMEOUT } from "../support/wrangler-dev";

const hasChromium = chromiumAvailable("browser e2e");

const ENV = "browser";
const boolFlag = (key: string, on: boolean, clientVisible: boolean) => ({
  key,
  type: "boolean",
  variants: { on: true, off: false },
  defaultVariant: on ? "on" : "off",
  clientVisible,
});

async function bundleSdk(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import { OpenFeature } from "@openfeature/web-sdk";
        import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
        window.edgeflags = { OpenFeature, OFREPWebProvider };`,
      resolveDir: repoRoot,
      loader: "js",
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/** Serves the test page and the bundle from an origin other than the Worker's. */
async function servePage(bundle: string): Promise<{ server: Server; url: string }> {
  const port = await freePort();
  const html = `<!doctype html><meta charset="utf-8"><title>edgeflags browser e2e</title><script src="/sdk.js"></script>`;
  const server = createServer((req, res) => {
    if (req.url === "/sdk.js") res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    else if (req.url === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe.skipIf(!hasChromium)("browser: OpenFeature web SDK + OFREP web provider", { timeout: 60_000 }, () => {
  let server: DevServer;
  let browser: Browser;
  let page: Page;
  let pageServer: Server | undefined;
  let clientKey: string;
  const requested: string[] = [];

  const setFlag = async (flag: ReturnType<typeof boolFlag>) => {
    const res = await server.admin("PUT", `/environments/${ENV}/flags/${flag.key}`, flag);
    expect([200, 201], res.text).toContain(res.status);
  };

  beforeAll(async () => {
    const [dev, bundle] = await Promise.all([startDevServer(), bundleSdk()]);
    server = dev;
    clientKey = await server.mintKey(ENV, "client");
    await setFlag(boolFlag("welcome-banner", true, true));
    await setFlag(boolFlag("secret-flag", true, false));
    await setFlag(boolFlag("sse-toggle", false, true));
    await setFlag(boolFlag("poll-toggle", false, true));
    const color = await server.admin("PUT", `/environments/${ENV}/flags/button-color`, {
      key: "button-color",
      type: "string",
      variants: { blue: "blue", green: "green" },
      defaultVariant: "green",
      clientVisible: true,
    });
    expect(color.status, color.text).toBe(201);

    const served = await servePage(bundle);
    pageServer = served.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("request", (r) => requested.push(r.url()));
    if (process.env.E2E_DEBUG)
      page.on("response", (r) => console.log(new Date().toISOString(), "res", r.status(), r.url().slice(0, 90)));
    await page.goto(served.url);
    // Two providers: the default one (SSE change stream, no polling) and one forced to poll.
    await page.evaluate(
      async ({ baseUrl, key }) => {
        const { OpenFeature, OFREPWebProvider } = (window as any).edgeflags;
        // Tuples: ofrep-web-provider 0.4.3 spreads `headers` as an array (its README's object form throws).
        const headers = [["Authorization", `Bearer ${key}`]];
        await OpenFeature.setContext({ targetingKey: "browser-user" });
        await OpenFeature.setProviderAndWait("sse", new OFREPWebProvider({ baseUrl, headers }));
        await OpenFeature.setProviderAndWait(
          "poll",
          new OFREPWebProvider({
            baseUrl,
            headers,
            changeDetection: "polling",
            pollInterval: 500,
            cacheMode: "disabled",
          }),
        );
        (window as any).clients = { sse: OpenFeature.getClient("sse"), poll: OpenFeature.getClient("poll") };
      },
      { baseUrl: server.baseUrl, key: clientKey },
    );
  }, SERVER_HOOK_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (pageServer ? pageServer.close(r) : r(undefined)));
    await server?.stop();
  }, 30_000);

  const details = (client: "sse" | "poll", kind: "Boolean" | "String", key: string, fallback: unknown) =>
    page.evaluate(
      ({ client, kind, key, fallback }) => {
        const d = (window as any).clients[client][`get${kind}Details`](key, fallback);
        return { value: d.value, variant: d.variant, reason: d.reason, errorCode: d.errorCode };
      },
      { client, kind, key, fallback },
    );

  it("evaluates client-visible flags; a hidden flag is FLAG_NOT_FOUND", async () => {
    expect(await details("sse", "Boolean", "welcome-banner", false)).toMatchObject({ value: true, variant: "on" });
    expect(await details("sse", "String", "button-color", "red")).toMatchObject({ value: "green", variant: "green" });
    expect(await details("poll", "Boolean", "welcome-banner", false)).toMatchObject({ value: true, variant: "on" });
    expect(await details("sse", "Boolean", "secret-flag", false)).toMatchObject({
      value: false,
      errorCode: "FLAG_NOT_FOUND",
    });

    // The same from the wire: the client key's bulk answer leaves the hidden flag out.
    const bulk = await (await server.ofrep(clientKey, undefined, { targetingKey: "browser-user" })).json();
    const keys = bulk.flags.map((f: { key: string }) => f.key);
    expect(keys).toEqual(expect.arrayContaining(["welcome-banner", "button-color", "sse-toggle", "poll-toggle"]));
    expect(keys).not.toContain("secret-flag");
  });

  it("a polling provider sees an admin change within a few seconds", async () => {
    await setFlag(boolFlag("poll-toggle", true, true));
    // pollInterval 500 ms + the edge's snapshot refresh (0.25 s): well under 5 s.
    await page.waitForFunction(
      () => (window as any).clients.poll.getBooleanValue("poll-toggle", false) === true,
      null,
      {
        timeout: 5000,
        polling: 50,
      },
    );
  });

  it("the default provider follows the SSE change stream from the bulk answer", async () => {
    const bulk = await (await server.ofrep(clientKey, undefined, { targetingKey: "browser-user" })).json();
    expect(Array.isArray(bulk.eventStreams) && bulk.eventStreams.length > 0, "bulk answer has no eventStreams").toBe(
      true,
    );
    const stream = bulk.eventStreams.find((e: { type: string }) => e.type === "sse");
    expect(stream, "no eventStreams entry of type sse").toBeDefined();
    const streamUrl = new URL(
      stream.url ?? `${stream.endpoint.origin ?? server.baseUrl}${stream.endpoint.requestUri}`,
      server.baseUrl,
    );
    // The provider opened the stream it was told about (it does not poll: pollInterval is 0).
    expect(requested.some((u) => new URL(u).pathname === streamUrl.pathname)).toBe(true);

    // Twice: the stream keeps working after the provider's refetch. The bound is generous for a
    // loaded 2-core CI box; unloaded it takes 0.2-0.5 s from the admin answer.
    for (const on of [true, false]) {
      await setFlag(boolFlag("sse-toggle", on, true));
      const t0 = Date.now();
      await page.waitForFunction(
        (want) => (window as any).clients.sse.getBooleanValue("sse-toggle", !want) === want,
        on,
        {
          timeout: 8000,
          polling: 50,
        },
      );
      if (process.env.E2E_DEBUG) console.log(`SSE change seen after ${Date.now() - t0} ms`);
    }
  });
});
