// @ts-check
// Insights tab: the environment's edge health (requests, error and 429 rates, stale answers,
// publish lag) over the last hour, and per flag its status, stale badge, last evaluation, a 24-hour
// usage sparkline and the variant split, with a filter for the flags that can probably go.
import { api } from "./api.js";
import { h, mount, timeEl } from "./dom.js";
import { sparkline, splitBar, stackedBars } from "./insights-charts.js";
import { stores } from "./store.js";

/** @typedef {import("./api.js").FlagSummary} FlagSummary */

/** @type {Record<string, { label: string, test: (f: FlagSummary) => boolean }>} */
const FILTERS = {
  all: { label: "All flags", test: () => true },
  stale: { label: "Stale", test: (f) => f.stale === true },
  never: { label: "Never evaluated", test: (f) => !f.lastEvaluatedAt },
  inactive: { label: "Inactive", test: (f) => f.status === "inactive" },
  launched: { label: "Launched", test: (f) => f.status === "launched" },
  active: { label: "Active", test: (f) => f.status === "active" },
  new: { label: "New", test: (f) => f.status === "new" },
};
/** Usage requests in flight at once, and flags whose usage is fetched (the rest: status only). */
const CONCURRENCY = 6;
const MAX_USAGE_ROWS = 100;

const view = { env: "", filter: "all" };

/** Status and stale badges for a flag row (also used by the Flags tab). @param {{ status?: string, stale?: boolean }} flag */
export function lifecycleBadges(flag) {
  if (!flag || typeof flag.status !== "string") return null;
  return [
    h("span", {
      class: `badge badge-status badge-${flag.status}`,
      title: STATUS_HELP[flag.status] ?? "",
      text: flag.status,
    }),
    flag.stale
      ? h("span", {
          class: "badge badge-stale",
          title: "Past its kind's expected lifetime and inactive or launched: probably safe to remove",
          text: "stale",
        })
      : null,
  ];
}

/** @type {Record<string, string>} */
const STATUS_HELP = {
  new: "Created recently and never evaluated",
  active: "Evaluated recently, serving more than one variant or changed recently",
  inactive: "No evaluations within the status window",
  launched: "Serving a single variant for the whole status window, unchanged",
};

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderInsights(panel, ctx) {
  if (view.env !== ctx.env) Object.assign(view, { env: ctx.env, filter: "all" });
  const env = ctx.env;
  const errorSlot = h("div");
  const healthSlot = h(
    "section",
    { class: "card insights-health", "aria-label": "Edge health" },
    h("p", { class: "muted", text: "Loading metrics…" }),
  );
  const flagsSlot = h("div", { class: "insights-flags" }, h("p", { class: "muted pad", text: "Loading flags…" }));
  const filter = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      {
        id: "insights-filter",
        on: {
          change: () => {
            view.filter = /** @type {any} */ (filter.value);
            drawFlags();
          },
        },
      },
      Object.entries(FILTERS).map(([value, f]) =>
        h("option", { value, text: f.label, selected: value === view.filter }),
      ),
    )
  );

  mount(
    panel,
    errorSlot,
    healthSlot,
    h(
      "div",
      { class: "toolbar" },
      h("h2", { text: "Flag usage (24 h)" }),
      h("span", { class: "spacer" }),
      h("label", { for: "insights-filter", text: "Show" }),
      filter,
      h("button", {
        type: "button",
        class: "btn",
        text: "Refresh",
        on: { click: () => void renderInsights(panel, ctx) },
      }),
    ),
    flagsSlot,
  );

  /** @type {any[]} */ let flags = [];
  /** @type {Map<string, any>} */ const usage = new Map();
  const colors = new Map();
  /** Usage still to fetch for the rows on screen. @type {{key: string, fill: () => void}[]} */
  const queue = [];

  try {
    // Flag summaries from the page's store (the Flags tab's): statuses change without versions,
    // so this tab always reads them afresh.
    const [metrics, list] = await Promise.all([api.metrics(env, 60), stores.flags.ensure(env, ctx.version, true)]);
    drawHealth(metrics);
    flags = [...list.values()];
  } catch (err) {
    ctx.handle(err, errorSlot);
    return;
  }
  drawFlags();

  /** The `GET …/metrics` answer (docs/api.md). @param {any} m */
  function drawHealth(m) {
    /** @type {any[]} */
    const buckets = Array.isArray(m?.buckets) ? m.buckets : [];
    /** @param {(b: any) => number | undefined} pick */
    const sum = (pick) => buckets.reduce((a, b) => a + (pick(b) || 0), 0);
    const requests = sum((b) => b.requests);
    /** @param {number} n */
    const pct = (n) => (requests === 0 ? "—" : `${((n / requests) * 100).toFixed(n && n / requests < 0.001 ? 3 : 1)}%`);
    const lag = m?.publish?.lagSeconds ?? 0;
    const tiles = [
      ["Requests (60 min)", String(requests), ""],
      ["5xx rate", pct(sum((b) => b.status?.["5xx"])), sum((b) => b.status?.["5xx"]) > 0 ? "bad" : ""],
      ["4xx rate", pct(sum((b) => b.status?.["4xx"])), ""],
      ["429 rate", pct(sum((b) => b.rateLimited)), sum((b) => b.rateLimited) > 0 ? "warn" : ""],
      ["Stale answers", String(sum((b) => b.stale)), sum((b) => b.stale) > 0 ? "warn" : ""],
      [
        "Publish lag",
        lag > 0 ? `${lag.toFixed(1)} s (v${m.publish.publishedVersion} of v${m.publish.version})` : "none",
        lag > 5 ? "bad" : "",
      ],
      [
        "Lost / dead-lettered",
        `${sum((b) => b.lost?.evaluations)} / ${sum((b) => b.deadLettered?.messages)}`,
        sum((b) => b.lost?.evaluations) + sum((b) => b.deadLettered?.messages) > 0 ? "warn" : "",
      ],
    ];
    mount(
      healthSlot,
      h("h2", { text: "Edge health" }),
      h(
        "div",
        { class: "tiles" },
        tiles.map(([label, value, tone]) =>
          h(
            "div",
            { class: `tile ${tone ? `tile-${tone}` : ""}` },
            h("div", { class: "tile-value", text: value }),
            h("div", { class: "tile-label muted", text: label }),
          ),
        ),
      ),
      stackedBars(
        buckets.map((b) => ({
          start: b.start,
          parts: [
            b.status?.["2xx"] ?? 0,
            b.status?.["3xx"] ?? 0,
            (b.status?.["4xx"] ?? 0) - (b.rateLimited ?? 0),
            b.rateLimited ?? 0,
            b.status?.["5xx"] ?? 0,
          ],
        })),
        {
          names: ["2xx", "3xx", "4xx", "429", "5xx"],
          colors: ["#16a34a", "#94a3b8", "#f59e0b", "#ea580c", "#dc2626"],
          label: `Requests per minute, last 60 minutes: ${requests} in total`,
        },
      ),
      // Swatch colours are classes (style.css): the page's CSP blocks style attributes.
      h(
        "p",
        { class: "muted small legend" },
        [
          ["2xx", "2xx"],
          ["3xx", "3xx (304)"],
          ["4xx", "4xx"],
          ["429", "429"],
          ["5xx", "5xx"],
        ].map(([name, label]) =>
          h("span", { class: "legend-item" }, h("span", { class: `swatch swatch-${name}` }), label),
        ),
      ),
    );
  }

  function drawFlags() {
    queue.length = 0;
    const shown = flags.filter(FILTERS[view.filter].test);
    if (shown.length === 0) {
      mount(
        flagsSlot,
        h("p", {
          class: "muted pad",
          text: flags.length === 0 ? "No flags in this environment yet." : "No flag matches this filter.",
        }),
      );
      return;
    }
    const rows = shown.map((flag, i) => {
      const spark = h("td", { class: "spark-cell" });
      const split = h("td", { class: "split-cell" });
      const total = h("td", { class: "num" });
      const fill = () => {
        const u = usage.get(flag.key);
        if (!u) return;
        mount(
          spark,
          sparkline(
            u.buckets.map((/** @type {{ total: number }} */ b) => b.total),
            { label: `${flag.key}: ${u.total} evaluations in 24 hours` },
          ),
        );
        mount(split, splitBar(u.variants, colors));
        total.textContent = String(u.total);
      };
      if (i < MAX_USAGE_ROWS) queue.push({ key: flag.key, fill });
      return h(
        "tr",
        { dataset: { key: flag.key } },
        h("td", {}, h("code", { text: flag.key })),
        h("td", { class: "muted", text: flag.kind ?? "release" }),
        h("td", {}, lifecycleBadges(flag)),
        h("td", {}, timeEl(flag.lastEvaluatedAt)),
        spark,
        split,
        total,
      );
    });
    mount(
      flagsSlot,
      h(
        "table",
        { class: "table insights-table" },
        h("caption", { class: "sr-only", text: `Flag usage in ${env}` }),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Flag", "Kind", "Status", "Last evaluated", "24 h", "Variants", "Total"].map((t) =>
              h("th", { scope: "col", text: t }),
            ),
          ),
        ),
        h("tbody", {}, rows),
      ),
    );
    if (shown.length > MAX_USAGE_ROWS)
      flagsSlot.appendChild(
        h("p", {
          class: "muted pad",
          text: `Usage charts for the first ${MAX_USAGE_ROWS} flags; filter to see others.`,
        }),
      );
    void drain();
  }

  async function drain() {
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        if (!usage.has(job.key)) {
          try {
            usage.set(job.key, await api.usage(env, job.key, 24));
          } catch (err) {
            ctx.handle(err, errorSlot);
            queue.length = 0;
            return;
          }
        }
        job.fill();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
}
