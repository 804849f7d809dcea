/**
 * The releases parts of the admin page in headless Debian Chromium against `npm start`: schedule
 * a toggle from a flag's timeline and see the alarm apply it; under an approval policy, a toggle
 * becomes a change request that a second admin approves from the Changes tab.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, openPageSession, type PageSession } from "../support/browser";
import type { DevServer } from "../support/wrangler-dev";

const hasChromium = chromiumAvailable("releases page e2e");

const ENV = "releases-e2e";

describe.skipIf(!hasChromium)("admin page: schedules and change requests", () => {
  let session: PageSession;
  let server: DevServer;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    session = await openPageSession(pageErrors, { viewport: { width: 1440, height: 900 } });
    ({ server, page } = session);
    expect((await server.admin("PUT", `/environments/${ENV}`)).status).toBe(201);
    const flag = { type: "boolean", variants: { on: true, off: false }, defaultVariant: "off" };
    expect((await server.admin("PUT", `/environments/${ENV}/flags/banner`, flag)).status).toBe(201);
  }, 180_000);

  afterAll(() => session?.close(), 60_000);

  const flagViaApi = async () =>
    (await server.admin("GET", `/environments/${ENV}/flags/banner`)).json as { enabled: boolean; version: number };

  async function signIn(token: string) {
    await page.goto(`${server.baseUrl}/#/${ENV}/flags`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator(".flags-table tbody tr").count()).toBe(1);
  }

  it("schedules a toggle from the flag's timeline; the alarm applies it", async () => {
    await signIn(server.adminToken);
    await page.getByRole("button", { name: "banner", exact: true }).click();
    await page.getByText("Schedule a change").click();
    // Three seconds from now, in the browser's local time (what a datetime-local input holds).
    const local = await page.evaluate(() => {
      const d = new Date(Date.now() + 3000);
      const pad = (n: number) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    });
    await page.getByLabel("At (local time)").fill(local);
    await page.getByRole("button", { name: "Turn off" }).click();
    await page.getByRole("button", { name: "Schedule", exact: true }).click();
    await expect.poll(() => page.locator(".timeline [data-schedule]").first().textContent()).toContain("pending");
    expect((await flagViaApi()).enabled).toBe(true);
    await expect.poll(async () => (await flagViaApi()).enabled, { timeout: 15_000 }).toBe(false);
    const schedules = (await server.admin("GET", `/environments/${ENV}/schedules`)).json.schedules;
    expect(schedules[0]).toMatchObject({ status: "applied", createdBy: "bootstrap" });
  }, 60_000);

  it("under a policy a toggle waits as a change request; a second admin approves it in the Changes tab", async () => {
    expect((await server.admin("PUT", `/environments/${ENV}/policy`, { approvals: 1 })).status).toBe(200);
    const second = (await server.admin("POST", "/tokens", { role: "admin", owner: "second-admin" })).json
      .token as string;
    await signIn(server.adminToken);
    const before = await flagViaApi();
    await page.getByRole("switch", { name: "banner enabled" }).click();
    await expect.poll(() => page.locator("#app-error").textContent()).toContain("waits for 1 approval");
    expect(await flagViaApi()).toEqual(before);

    // The author's own approval is refused.
    await page.getByRole("button", { name: "Open Changes" }).click();
    const card = page.locator(".change-request").first();
    await expect.poll(() => card.textContent()).toContain("flag.toggle");
    await card.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.locator("#panel-changes").textContent()).toContain("may not approve");
    expect(await flagViaApi()).toEqual(before);

    await signIn(second);
    await page.getByRole("tab", { name: "Changes" }).click();
    const pending = page.locator(".change-request").first();
    await expect.poll(() => pending.textContent()).toContain("enabled");
    await pending.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => page.locator("#panel-changes").textContent()).toContain("Applied as version");
    const after = await flagViaApi();
    expect(after.enabled).toBe(true);
    expect(after.version).toBe(before.version + 1);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
