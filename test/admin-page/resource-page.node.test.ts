/**
 * The admin page with a large environment, in headless Debian Chromium against the real server:
 * the flag list keeps only the rows in view in the DOM and draws others as the page scrolls; a
 * toggle replaces its one row; a tab switch refetches nothing unless the environment's version
 * moved; the prerequisite picker is a type-ahead; opening a flag reads neither the OpenAPI
 * document nor every schedule of the environment; the Insights legend is coloured without a
 * style attribute. No page error and no Content-Security-Policy violation throughout.
 */
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, openPageSession, type PageSession } from "../support/browser";
import type { DevServer } from "../support/wrangler-dev";

const hasChromium = chromiumAvailable("admin page lists");

const ENV = "list-e2e";
const FLAGS = 600;
const keyOf = (i: number) => `flag-${String(i).padStart(4, "0")}`;

describe.skipIf(!hasChromium)("admin page: lists, stores and pickers", () => {
  let session: PageSession;
  let server: DevServer;
  let page: Page;
  const pageErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    session = await openPageSession(pageErrors, { viewport: { width: 1440, height: 900 }, consoleErrors: true });
    ({ server, page } = session);
    expect((await server.admin("PUT", `/environments/${ENV}`)).status).toBe(201);
    const flags = Object.fromEntries(
      Array.from({ length: FLAGS }, (_, i) => [
        keyOf(i),
        { state: "ENABLED", variants: { on: true, off: false }, defaultVariant: "on" },
      ]),
    );
    expect((await server.admin("PUT", `/environments/${ENV}/flagd`, { flags })).status).toBe(200);
    expect((await server.admin("PUT", `/environments/${ENV}/segments/beta`, { included: ["u1"] })).status).toBe(201);
    page.on("request", (r: Request) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
    // A CSP violation (e.g. a style attribute) is reported to the page as an event: collect them.
    await page.addInitScript(() => {
      (window as unknown as { __csp: string[] }).__csp = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`),
      );
    });
    await page.goto(`${server.baseUrl}/#/${ENV}/flags`);
    await page.getByLabel("Admin token").fill(server.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(`.flags-table tr[data-key="${keyOf(0)}"]`).waitFor();
  }, 180_000);

  afterAll(async () => {
    const csp = await page?.evaluate(() => (window as unknown as { __csp: string[] }).__csp).catch(() => []);
    await session?.close();
    expect(csp).toEqual([]);
  }, 60_000);

  const rowCount = () => page.locator(".flags-table tbody tr").count();
  const summaryLoads = () =>
    requests.filter((r) => r.startsWith(`/admin/v1/environments/${ENV}/flags?view=summary`)).length;

  it("draws only the rows in view, counts all, and draws later rows as the page scrolls", async () => {
    expect(await page.locator("#panel-flags .count").textContent()).toBe(`${FLAGS} flags`);
    const drawn = await rowCount();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(120);
    expect(await page.locator(".flags-table").getAttribute("aria-rowcount")).toBe(String(FLAGS + 1));
    const last = page.locator(`.flags-table tr[data-key="${keyOf(FLAGS - 1)}"]`);
    expect(await last.count()).toBe(0);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await expect.poll(() => last.count()).toBe(1);
    expect(await last.getAttribute("aria-rowindex")).toBe(String(FLAGS + 1));
    expect(await rowCount()).toBeLessThan(120);
    await page.evaluate(() => window.scrollTo(0, 0));
    await expect.poll(() => page.locator(`.flags-table tr[data-key="${keyOf(0)}"]`).count()).toBe(1);
  }, 60_000);

  it("searches all flags, not only the drawn ones, and clearing lists them all again", async () => {
    await page.getByLabel("Search flags").fill(keyOf(FLAGS - 2));
    await expect.poll(rowCount).toBe(1);
    expect(await page.locator(".flags-table tbody tr").getAttribute("data-key")).toBe(keyOf(FLAGS - 2));
    expect(await page.locator("#panel-flags .count").textContent()).toBe(`1 of ${FLAGS}`);
    await page.getByLabel("Search flags").fill("");
    await expect.poll(() => page.locator("#panel-flags .count").textContent()).toBe(`${FLAGS} flags`);
    expect(await rowCount()).toBeGreaterThan(10);
  }, 60_000);

  it("a toggle replaces its own row only, and refetches no list", async () => {
    const loads = summaryLoads();
    // Tag two drawn rows: the toggled one is replaced, its neighbour stays the same node.
    await page.evaluate(() =>
      document
        .querySelectorAll<HTMLElement>(".flags-table tbody tr")
        .forEach((tr) => ((tr as unknown as { __mark: boolean }).__mark = true)),
    );
    const toggle = page.getByRole("switch", { name: `${keyOf(1)} enabled` });
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    await expect
      .poll(() => page.getByRole("switch", { name: `${keyOf(1)} enabled` }).getAttribute("aria-checked"))
      .toBe("false");
    const marks = await page.evaluate(
      (keys) =>
        keys.map(
          (k) =>
            (document.querySelector(`.flags-table tr[data-key="${k}"]`) as unknown as { __mark?: boolean } | null)
              ?.__mark ?? false,
        ),
      [keyOf(0), keyOf(1), keyOf(2)],
    );
    expect(marks).toEqual([true, false, true]);
    expect((await server.admin("GET", `/environments/${ENV}/flags/${keyOf(1)}`)).json.enabled).toBe(false);
    expect(summaryLoads()).toBe(loads);
  }, 60_000);

  it("switching tabs keeps the list; a change made elsewhere is fetched when the tab is shown again", async () => {
    const loads = summaryLoads();
    await page.evaluate(
      () => ((document.querySelector(".flags-table") as unknown as { __mark: boolean }).__mark = true),
    );
    await page.getByRole("tab", { name: "Segments" }).click();
    await page.locator('.segments-table tr[data-key="beta"]').waitFor();
    await page.getByRole("tab", { name: "Flags" }).click();
    await expect.poll(rowCount).toBeGreaterThan(10);
    expect(
      await page.evaluate(() => (document.querySelector(".flags-table") as unknown as { __mark?: boolean }).__mark),
    ).toBe(true);
    // The version check after showing is one small call; give it time to (not) refetch.
    await page.waitForLoadState("networkidle");
    expect(summaryLoads()).toBe(loads);

    // Someone else switches a flag off: the next show of the tab refetches and redraws it.
    expect(
      (await server.admin("POST", `/environments/${ENV}/flags/${keyOf(3)}/toggle`, { enabled: false })).status,
    ).toBe(200);
    await page.getByRole("tab", { name: "Segments" }).click();
    await page.getByRole("tab", { name: "Flags" }).click();
    await expect
      .poll(() => page.getByRole("switch", { name: `${keyOf(3)} enabled` }).getAttribute("aria-checked"))
      .toBe("false");
    expect(summaryLoads()).toBe(loads + 1);
  }, 60_000);

  it("opens a flag without the OpenAPI document or the environment's every schedule; the prerequisite picker is a type-ahead", async () => {
    const before = requests.length;
    await page.getByRole("button", { name: keyOf(5), exact: true }).click();
    const d = page.locator(".flag-detail");
    await d.locator(".visual-editor").waitFor();
    await expect.poll(() => requests.slice(before).some((r) => r.includes("/schedules"))).toBe(true);
    const since = requests.slice(before);
    expect(since.filter((r) => r.includes("openapi.json"))).toEqual([]);
    expect(since.filter((r) => r.includes("/schedules"))).toEqual([
      `/admin/v1/environments/${ENV}/schedules?flag=${keyOf(5)}`,
    ]);

    await d.getByRole("button", { name: "+ Prerequisite" }).click();
    const picker = d.getByRole("combobox", { name: "Prerequisite 1 flag" });
    expect(await picker.inputValue()).toBe(keyOf(0));
    await picker.fill("flag-05");
    const options = d.getByRole("listbox", { name: "Suggestions" }).getByRole("option");
    // flag-0500 … flag-0599: 100 match, the list shows the first 20 and says how many more.
    await expect.poll(() => options.count()).toBe(20);
    expect(await d.locator(".fe-picker-more").textContent()).toContain("80 more");
    await picker.fill("flag-0599");
    await expect.poll(() => options.allTextContents()).toEqual(["flag-0599"]);
    await picker.press("Enter");
    expect(await picker.inputValue()).toBe("flag-0599");
    expect(await d.getByLabel("Prerequisite 1 variant").inputValue()).toBe("on");
    expect(await options.count()).toBe(0);
    // Text that names no flag goes back to the last flag picked when the field is left.
    await picker.fill("no-such-flag");
    await d.getByLabel("Prerequisite 1 variant").focus();
    expect(await picker.inputValue()).toBe("flag-0599");
    await d.getByRole("button", { name: "Revert" }).click();
    await d.getByRole("button", { name: "Close details" }).click();
  }, 60_000);

  it("colours the Insights legend through classes (no style attribute for the CSP to block)", async () => {
    await page.getByRole("tab", { name: "Insights" }).click();
    const swatches = page.locator("#panel-insights .legend .swatch");
    await expect.poll(() => swatches.count()).toBe(5);
    const colours = await swatches.evaluateAll((els) => els.map((el) => getComputedStyle(el).backgroundColor));
    expect(colours).toEqual([
      "rgb(22, 163, 74)",
      "rgb(148, 163, 184)",
      "rgb(245, 158, 11)",
      "rgb(234, 88, 12)",
      "rgb(220, 38, 38)",
    ]);
    expect(await swatches.evaluateAll((els) => els.filter((el) => el.hasAttribute("style")).length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(pageErrors.filter((e) => !/status of (401|404|409|412)/.test(e))).toEqual([]);
  }, 60_000);
});
