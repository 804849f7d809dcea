/**
 * `npm run bench:editor`: the admin page's visual flag editor with a large environment, in headless
 * Debian Chromium against the real local server (`npm start` via the e2e harness). An environment
 * of BENCH_FLAGS flags (default 2,000) is imported in one version, and the flags opened get two
 * rules and a rollout. Per round, measured in the page: from clicking a flag in the list until its
 * visual editor is drawn (including its GET), from “+ Prerequisite” until the type-ahead picker is
 * drawn (then typing into it must list that flag), from a search input until the list is filtered
 * (the page debounces typing: included), from clearing it until the list shows every flag again
 * (counted, with the rows in view drawn: the list draws only those, at any size), from
 * clicking a row's on/off switch until that row shows the new state (the API call included), and
 * from switching to the Segments tab and back until the flag list is shown again. Prints
 * p50/p90/max in ms; last line is JSON. Env: BENCH_FLAGS (default 2,000), BENCH_ROUNDS (default 20).
 * @module
 */
import { chromium } from "playwright-core";
import { startDevServer } from "../test/support/wrangler-dev";

const FLAGS = Number(process.env.BENCH_FLAGS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const ENV = "bench-editor";

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const summary = (xs: number[]) => ({
  p50: +pct(xs, 50).toFixed(1),
  p90: +pct(xs, 90).toFixed(1),
  max: +Math.max(...xs).toFixed(1),
});

const flag = (i: number) => ({
  key: `flag-${String(i).padStart(4, "0")}`,
  type: "string",
  description: `bench flag ${i}`,
  tags: ["bench", i % 2 ? "odd" : "even"],
  variants: { a: "A", b: "B", c: "C" },
  defaultVariant: "a",
  rules: [
    { when: { attribute: "email", op: "endsWith", values: ["@example.com"] }, serve: { variant: "b" } },
    {
      when: {
        any: [
          { attribute: "country", op: "in", values: ["DE", "FR"] },
          { attribute: "appVersion", op: "semverGte", values: ["2.0.0"] },
        ],
      },
      serve: { variant: "c" },
    },
  ],
  fallthrough: {
    rollout: {
      variants: [
        { variant: "a", weight: 30 },
        { variant: "b", weight: 70 },
      ],
    },
  },
});

const server = await startDevServer();
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  await server.admin("PUT", `/environments/${ENV}`);
  // Every flag in one version (a flagd import), then the flags the rounds open get native rules.
  const flagd = {
    flags: Object.fromEntries(
      Array.from({ length: FLAGS }, (_, i) => [
        flag(i).key,
        { state: "ENABLED", variants: flag(i).variants, defaultVariant: "a" },
      ]),
    ),
  };
  const imported = await server.admin("PUT", `/environments/${ENV}/flagd`, flagd);
  if (imported.status >= 300) throw new Error(`import answered ${imported.status}`);
  const opened = Array.from({ length: ROUNDS }, (_, r) => (r * 97) % FLAGS);
  for (const i of opened) {
    const res = await server.admin("PUT", `/environments/${ENV}/flags/${flag(i).key}`, flag(i));
    if (res.status >= 300) throw new Error(`PUT answered ${res.status}`);
  }

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(`${server.baseUrl}/#/${ENV}/flags`);
  await page.getByLabel("Admin token").fill(server.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(`.flags-table tr[data-key="${flag(0).key}"]`).waitFor({ timeout: 60_000 });

  // Timed inside the page (click → the next animation frame after the result is in the DOM), so
  // the figures are the page's own work plus its admin API calls, not the test driver's lookups.
  const until = (start: string, done: string, arg: string) =>
    page.evaluate(
      async ([start, done, arg]) => {
        const t0 = performance.now();
        new Function("arg", start)(arg);
        // The synchronous part (the page's event handler), read back for the prerequisite step.
        (window as unknown as { __syncMs: number }).__syncMs = performance.now() - t0;
        const check = new Function("arg", `return ${done}`) as (a: string) => boolean;
        while (!check(arg)) await new Promise((r) => requestAnimationFrame(r));
        await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - t0;
      },
      [start, done, arg] as const,
    );

  const open: number[] = [];
  const prereq: number[] = [];
  const prereqScript: number[] = [];
  const search: number[] = [];
  const listAll: number[] = [];
  const toggle: number[] = [];
  const tabs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const key = flag(opened[r]).key;
    // Untimed: scroll the page until the row is drawn (as a user scrolls to it).
    await page.evaluate(async (key) => {
      window.scrollTo(0, 0);
      for (let i = 0; !document.querySelector(`.flags-table tr[data-key="${key}"]`); i++) {
        if (i > 2000) throw new Error(`row ${key} is not in the list`);
        window.scrollBy(0, 600);
        await new Promise((r) => requestAnimationFrame(r));
        await new Promise((r) => requestAnimationFrame(r));
      }
      document.querySelector(`.flags-table tr[data-key="${key}"]`)!.scrollIntoView({ block: "center" });
      await new Promise((r) => requestAnimationFrame(r));
    }, key);
    open.push(
      await until(
        `document.querySelector('.flags-table tr[data-key="' + arg + '"] .flag-key').click()`,
        `document.querySelector(".flag-detail h2")?.textContent === arg && !!document.querySelector(".flag-detail .visual-editor .fe-bar")`,
        key,
      ),
    );
    prereq.push(
      await until(
        `[...document.querySelectorAll(".flag-detail button")].find((b) => b.textContent === "+ Prerequisite").click()`,
        `!!document.getElementById("fe-prereq-0-flag")`,
        key,
      ),
    );
    prereqScript.push(await page.evaluate(() => (window as unknown as { __syncMs: number }).__syncMs));
    // The picker finds any other flag by typing part of its key.
    const wanted = flag((opened[r] + 1) % FLAGS).key;
    await page.locator("#fe-prereq-0-flag").fill(wanted);
    const listed = await page.locator("#fe-prereq-0-flag-list [role=option]").allTextContents();
    if (!listed.includes(wanted))
      throw new Error(`prerequisite picker does not list ${wanted} when typed: ${listed.join(", ")}`);
    // Discard the edit (the page asks before replacing an editor with unsaved changes).
    await page.getByRole("button", { name: "Revert" }).click();
    search.push(
      await until(
        `const input = document.getElementById("flag-search"); input.value = arg; input.dispatchEvent(new Event("input"))`,
        `document.querySelectorAll(".flags-table tbody tr").length === 1`,
        key,
      ),
    );
    listAll.push(
      await until(
        `const input = document.getElementById("flag-search"); input.value = ""; input.dispatchEvent(new Event("input"))`,
        `document.querySelector("#panel-flags .count")?.textContent === ${JSON.stringify(`${FLAGS.toLocaleString("en-US")} flags`)} && document.querySelectorAll(".flags-table tbody tr").length > 1`,
        key,
      ),
    );
    // On/off switch of the second row (a flag no round opens): until that row shows the flipped state.
    const first = flag(1).key;
    await page.evaluate(async () => {
      window.scrollTo(0, 0);
      await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => requestAnimationFrame(r));
    });
    const was = await page.locator(`.flags-table tr[data-key="${first}"] [role=switch]`).getAttribute("aria-checked");
    toggle.push(
      await until(
        `document.querySelector('.flags-table tr[data-key="' + arg + '"] [role=switch]').click()`,
        `document.querySelector('.flags-table tr[data-key="' + arg + '"] [role=switch]')?.getAttribute("aria-checked") === ${JSON.stringify(was === "true" ? "false" : "true")}`,
        first,
      ),
    );
    // To Segments and back to Flags: until the flag list is shown again.
    tabs.push(
      await until(
        `document.getElementById("tab-segments").click(); document.getElementById("tab-flags").click()`,
        `!document.getElementById("panel-flags").hidden && document.getElementById("panel-segments").hidden && !!document.querySelector('.flags-table tr[data-key="' + arg + '"]')`,
        first,
      ),
    );
  }
  const result = {
    flags: FLAGS,
    rounds: ROUNDS,
    openEditorMs: summary(open),
    prerequisitePickerMs: summary(prereq),
    prerequisiteScriptMs: summary(prereqScript),
    searchMs: summary(search),
    clearSearchMs: summary(listAll),
    toggleMs: summary(toggle),
    switchTabsMs: summary(tabs),
  };
  console.log(`visual editor, ${FLAGS} flags, ${ROUNDS} rounds`);
  console.log(
    `  open a flag's visual editor   p50 ${result.openEditorMs.p50} ms  p90 ${result.openEditorMs.p90} ms  max ${result.openEditorMs.max} ms`,
  );
  console.log(
    `  prerequisite picker (${FLAGS - 1} flags)  p50 ${result.prerequisitePickerMs.p50} ms  p90 ${result.prerequisitePickerMs.p90} ms  max ${result.prerequisitePickerMs.max} ms`,
  );
  console.log(
    `    of which the click handler    p50 ${result.prerequisiteScriptMs.p50} ms  p90 ${result.prerequisiteScriptMs.p90} ms  max ${result.prerequisiteScriptMs.max} ms`,
  );
  console.log(
    `  search filters the list       p50 ${result.searchMs.p50} ms  p90 ${result.searchMs.p90} ms  max ${result.searchMs.max} ms`,
  );
  console.log(
    `  clearing it lists all ${FLAGS}    p50 ${result.clearSearchMs.p50} ms  p90 ${result.clearSearchMs.p90} ms  max ${result.clearSearchMs.max} ms`,
  );
  console.log(
    `  toggling a flag (row redrawn) p50 ${result.toggleMs.p50} ms  p90 ${result.toggleMs.p90} ms  max ${result.toggleMs.max} ms`,
  );
  console.log(
    `  Segments tab and back         p50 ${result.switchTabsMs.p50} ms  p90 ${result.switchTabsMs.p90} ms  max ${result.switchTabsMs.max} ms`,
  );
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await server.stop();
}
