/**
 * The README's browser example, as printed: its `js` block (OpenFeature web SDK + OFREP web
 * provider) is bundled and run in headless Chromium from another origin, with the client key and
 * base URL that `npm start` printed substituted for the placeholders. It must log the flag's value
 * from the server (not the code default after a failed evaluation).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser";
import {
  eventually,
  freePort,
  repoRoot,
  startDevServer,
  type DevServer,
  SERVER_HOOK_TIMEOUT,
} from "../support/wrangler-dev";

const hasChromium = chromiumAvailable("README browser example");

/** The README's "In a browser" code block. */
function readmeBrowserSnippet(): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## In a browser"));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README has no js block under “In a browser”");
  return block;
}

describe.skipIf(!hasChromium)("README: the browser example with the printed client key", { timeout: 60_000 }, () => {
  let server: DevServer;
  let browser: Browser;
  let pageServer: Server | undefined;

  beforeAll(async () => {
    server = await startDevServer();
    browser = await launchChromium();
  }, SERVER_HOOK_TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (pageServer ? pageServer.close(r) : r(undefined)));
    await server?.stop();
  }, 30_000);

  it("logs new-checkout's served value, evaluated without an error", async () => {
    const snippet = readmeBrowserSnippet();
    expect(snippet).toContain("efc_…your client key…");
    expect(snippet).toContain("http://127.0.0.1:8787");
    expect(server.keys.client).toMatch(/^efc_/);
    const flagKey = /getBooleanValue\("([^"]+)"/.exec(snippet)?.[1];
    expect(flagKey).toBe("new-checkout");
    // As printed, but with this test server's port and key; `render` is the reader's own function.
    const source =
      snippet.replace("http://127.0.0.1:8787", server.baseUrl).replace("efc_…your client key…", server.keys.client!) +
      `\nfunction render() {}\nwindow.readme = { details: client.getBooleanDetails(${JSON.stringify(flagKey)}, false) };\n`;
    const bundle = await build({
      stdin: { contents: source, resolveDir: repoRoot, loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const js = bundle.outputFiles[0].text;

    const port = await freePort();
    pageServer = createServer((req, res) => {
      if (req.url === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
      else
        res
          .writeHead(200, { "content-type": "text/html" })
          .end(`<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script>`);
    });
    await new Promise<void>((r) => pageServer!.listen(port, "127.0.0.1", r));

    const page = await browser.newPage();
    const errors: string[] = [];
    const logged: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "log") logged.push(m.text());
      else if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    const details = await eventually(() => page.evaluate(() => (window as any).readme?.details), 20_000);
    expect(errors).toEqual([]);
    expect(details.errorCode).toBeUndefined();
    expect(details.reason).not.toBe("ERROR");
    expect(typeof details.value).toBe("boolean");
    expect(typeof details.variant).toBe("string");
    // The snippet's own console.log printed that value.
    expect(logged).toContain(String(details.value));
    await page.close();
  });
});
