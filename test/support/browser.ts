/**
 * Headless Debian Chromium for the browser tests (`npx playwright install` cannot download here).
 * @module
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { startDevServer, type DevServer, type StartOptions } from "./wrangler-dev";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Whether Chromium is installed, for `describe.skipIf`. In CI a missing browser is an error (a
 * silently skipped suite would pass); elsewhere `suite` is skipped with a warning.
 */
export function chromiumAvailable(suite: string): boolean {
  const has = existsSync(CHROMIUM);
  if (!has && process.env.CI === "true") {
    throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)`);
  }
  if (!has) console.warn(`${suite} skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return has;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** Also record `console.error` messages (failed fetches show up there), not only uncaught errors. */
  consoleErrors?: boolean;
}

/** A new page that pushes its uncaught errors (and, if asked, console errors) to `errors`. */
async function openRecordingPage(browser: Browser, errors: string[], options: PageOptions = {}): Promise<Page> {
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  page.on("pageerror", (err) => errors.push(String(err)));
  if (options.consoleErrors) {
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
  }
  return page;
}

export interface PageSession {
  server: DevServer;
  page: Page;
  /** Closes the browser, then stops the server. */
  close(): Promise<void>;
}

/**
 * A spawned server (`npm start`) and a Chromium page for it, started one after the other; if the
 * browser fails to start, the server already started is stopped before the error is rethrown.
 */
export async function openPageSession(
  errors: string[],
  options: PageOptions & { server?: StartOptions } = {},
): Promise<PageSession> {
  const server = await startDevServer(options.server);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await openRecordingPage(browser, errors, options);
    const opened = browser;
    return {
      server,
      page,
      async close() {
        await opened.close();
        await server.stop();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw e;
  }
}
