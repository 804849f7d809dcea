// @ts-check
// The list/detail page of a keyed, versioned resource (flags, segments): a searchable list beside
// the editor of the selected item. Built once per environment and kept across tab switches; on
// every show it asks the server for the environment's version (one small call) and refetches the
// list only when that moved. Rows are keyed and cached: a change replaces that one row; a search
// (debounced) picks the matching keys. Only the rows in and near the viewport are in the DOM (a
// window over the matching keys, padded above and below to the list's full height), so the list
// costs the same with 10,000 items as with 50.
import { confirmDialog, h, mount } from "./dom.js";
import { resourceEditor } from "./resource-editor.js";

/** Rows drawn beyond each edge of the viewport, so a scroll shows drawn rows before the next draw. */
const OVERSCAN = 10;
/** Row height assumed until the first rows are measured (px). */
const ROW_HEIGHT = 49;
/**
 * Search debounce: the first keystroke after a pause filters at once; keystrokes within this
 * many ms of the last filtering are coalesced into one filtering at the end of the window.
 */
const SEARCH_DEBOUNCE_MS = 50;

/**
 * @template {{ key: string, version: number }} T
 * @typedef {object} PageSpec
 * @property {string} noun "flag" | "segment"
 * @property {string} plural
 * @property {string} tableClass e.g. "flags-table"
 * @property {string} splitClass e.g. "split flags-split"
 * @property {string} detailClass e.g. "flag-detail"
 * @property {import("./store.js").ResourceStore<T>} store
 * @property {{ text: string, class?: string }[]} columns
 * @property {(item: T, page: PageApi) => (HTMLElement | null)[]} cells the row's cells after the key cell
 * @property {(item: T) => (HTMLElement | string | null)[]} keyCell extras after the key button (badges, description)
 * @property {(item: T) => string} searchText what a search matches, lower case
 * @property {string} searchPlaceholder
 * @property {HTMLElement | null} [intro] a note in the toolbar
 * @property {HTMLElement[]} emptyText shown when there are no items
 * @property {(ctx: any, page: PageApi) => import("./resource-editor.js").EditorSpec} editor
 */

/**
 * What a page's row cells and editor spec may call back.
 * @typedef {object} PageApi
 * @property {(key: string | null) => Promise<void>} select
 * @property {(err: any) => void} fail shows an error above the list
 * @property {() => void} clearError
 * @property {(dirty: boolean) => void} setDirty
 * @property {() => boolean} dirty
 * @property {(key: string) => void} reopen redraws the editor of `key` if it is open without edits
 * @property {() => any} ctx the page context of the environment on screen
 */

const NEW = "\u0000new";

/**
 * @template {{ key: string, version: number }} T
 * @param {PageSpec<T>} spec
 * @returns {(panel: HTMLElement, ctx: any) => Promise<void>}
 */
export function resourcePage(spec) {
  /** Everything below lives as long as one environment is on screen. */
  let env = "";
  /** @type {string | null} */
  let selected = null;
  let dirty = false;
  let query = "";
  /** Row cache: the item each row was drawn from, and the row. @type {Map<string, { item: T, tr: HTMLElement }>} */
  const rows = new Map();
  /** Keys matching the search, in order, and the window of them that is drawn. @type {string[]} */
  let shown = [];
  let start = 0;
  let end = 0;
  /** Average drawn row height (px), measured after each draw. */
  let rowHeight = ROW_HEIGHT;
  /** @type {any} */
  let ctxRef = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let searchTimer;

  const Noun = spec.noun[0].toUpperCase() + spec.noun.slice(1);
  const errorSlot = h("div");
  const count = h("span", { class: "muted count" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: `table ${spec.tableClass}` },
    h("caption", { class: "sr-only" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", text: Noun }),
        spec.columns.map((c) => h("th", { scope: "col", class: c.class ?? null, text: c.text })),
      ),
    ),
    tbody,
  );
  const empty = h("div", { class: "empty", hidden: true }, ...spec.emptyText);
  const noMatch = h("p", { class: "muted pad", hidden: true, text: `No ${spec.noun} matches the search.` });
  // Its top and bottom padding stand for the rows outside the window.
  const windowed = h("div", { class: "windowed" }, table);
  const listSlot = h("div", { class: "flag-list", "aria-busy": "true" }, windowed, empty, noMatch);
  const detailSlot = h("aside", { class: spec.detailClass, "aria-label": `${Noun} details`, hidden: true });
  const split = h("div", { class: spec.splitClass }, listSlot, detailSlot);
  const search = /** @type {HTMLInputElement} */ (
    h("input", {
      type: "search",
      id: `${spec.noun}-search`,
      placeholder: spec.searchPlaceholder,
      autocomplete: "off",
      on: { input: () => searchTyped() },
    })
  );
  let lastSearch = 0;
  function searchTyped() {
    clearTimeout(searchTimer);
    const run = () => {
      lastSearch = performance.now();
      query = search.value;
      filter();
    };
    const wait = lastSearch + SEARCH_DEBOUNCE_MS - performance.now();
    if (wait <= 0) run();
    else searchTimer = setTimeout(run, wait);
  }
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h("label", { for: `${spec.noun}-search`, class: "sr-only", text: `Search ${spec.plural}` }),
    search,
    spec.intro ?? null,
    count,
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "btn", on: { click: () => void refresh(true) }, text: "Refresh" }),
    h("button", {
      type: "button",
      class: "btn btn-primary",
      id: `${spec.noun}-new`,
      on: { click: () => void select(NEW) },
      text: `New ${spec.noun}`,
    }),
  );
  const root = h("div", { class: "resource-page" }, toolbar, errorSlot, split);

  // Scrolling moves the window (once per frame at most).
  let scheduled = false;
  const onScroll = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      drawWindow(false);
    });
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll, { passive: true });

  /** @type {PageApi} */
  const pageApi = {
    select: (key) => select(key),
    fail: (err) => ctxRef.handle(err, errorSlot),
    clearError: () => mount(errorSlot),
    setDirty: (d) => {
      dirty = d;
    },
    dirty: () => dirty,
    reopen: (key) => {
      if (selected === key && !dirty) drawDetail();
    },
    ctx: () => ctxRef,
  };

  spec.store.subscribe((event) => {
    if (spec.store.env !== env) return;
    if (event.kind === "upsert") return replaceRow(event.item);
    filter();
  });

  /** @param {T} item */
  function buildRow(item) {
    const isSelected = item.key === selected;
    return h(
      "tr",
      { class: isSelected ? "selected" : "", dataset: { key: item.key } },
      h(
        "td",
        { class: "flag-cell" },
        h("button", {
          type: "button",
          class: "link flag-key",
          "aria-current": isSelected ? "true" : null,
          on: { click: () => void select(item.key) },
          text: item.key,
        }),
        spec.keyCell(item),
      ),
      spec.cells(item, pageApi),
    );
  }

  /** The row of `item`, from the cache while the item is the one it was drawn from. @param {T} item */
  function rowOf(item) {
    const cached = rows.get(item.key);
    if (cached && cached.item === item) return cached.tr;
    const tr = buildRow(item);
    rows.set(item.key, { item, tr });
    return tr;
  }

  /** One item changed: its row is replaced where it is; nothing else is touched. @param {T} item */
  function replaceRow(item) {
    const old = rows.get(item.key)?.tr;
    const tr = rowOf(item);
    if (old && old !== tr && old.parentNode) {
      const index = old.getAttribute("aria-rowindex");
      if (index) tr.setAttribute("aria-rowindex", index);
      old.replaceWith(tr);
    }
    markSelected();
  }

  function matches(/** @type {T} */ item) {
    const q = query.trim().toLowerCase();
    if (!q) return true;
    const hay = spec.searchText(item);
    return q.split(/\s+/).every((word) => hay.includes(word));
  }

  /** Recomputes the matching keys and draws the window of them at the current scroll position. */
  function filter() {
    const items = spec.store.items;
    shown = [];
    for (const item of items.values()) if (matches(item)) shown.push(item.key);
    for (const key of rows.keys()) if (!items.has(key)) rows.delete(key);
    count.textContent =
      items.size === shown.length
        ? `${shown.length.toLocaleString()} ${spec.noun}${shown.length === 1 ? "" : "s"}`
        : `${shown.length.toLocaleString()} of ${items.size.toLocaleString()}`;
    empty.hidden = items.size > 0;
    windowed.hidden = items.size === 0;
    noMatch.hidden = items.size === 0 || shown.length > 0;
    table.setAttribute("aria-rowcount", String(shown.length + 1));
    drawWindow(true);
  }

  /**
   * Draws the rows in and near the viewport. Positions come from the average row height; the
   * paddings keep the scroll height of the whole list. `force`: redraw even if the range is the same.
   * @param {boolean} force
   */
  function drawWindow(force) {
    // A hidden tab has no layout to measure: it draws when shown again.
    if (!listSlot.isConnected || listSlot.offsetParent === null) {
      if (force) {
        start = 0;
        end = 0;
        tbody.replaceChildren();
      }
      return;
    }
    const top = windowed.getBoundingClientRect().top;
    const above = Math.max(0, -top);
    const first = Math.min(shown.length, Math.floor(above / rowHeight));
    const last = Math.min(shown.length, Math.ceil((above + window.innerHeight) / rowHeight));
    // Within the drawn overscan: nothing to do.
    if (
      !force &&
      first >= start &&
      last <= end &&
      (start === 0 || first - start >= OVERSCAN / 2) &&
      (end === shown.length || end - last >= OVERSCAN / 2)
    )
      return;
    start = Math.max(0, first - OVERSCAN);
    end = Math.min(shown.length, last + OVERSCAN);
    const items = spec.store.items;
    tbody.replaceChildren(
      ...shown.slice(start, end).map((key, i) => {
        const tr = rowOf(/** @type {T} */ (items.get(key)));
        tr.setAttribute("aria-rowindex", String(start + i + 2));
        return tr;
      }),
    );
    if (end > start) rowHeight = Math.max(20, tbody.getBoundingClientRect().height / (end - start));
    windowed.style.paddingTop = `${Math.round(start * rowHeight)}px`;
    windowed.style.paddingBottom = `${Math.round((shown.length - end) * rowHeight)}px`;
    markSelected();
  }

  /** Moves the selection highlight over the drawn rows only. */
  function markSelected() {
    split.classList.toggle("with-detail", selected !== null);
    for (const tr of /** @type {HTMLCollectionOf<HTMLElement>} */ (tbody.children)) {
      const on = tr.dataset.key === selected;
      if (tr.classList.contains("selected") === on) continue;
      tr.classList.toggle("selected", on);
      const button = tr.querySelector(".flag-key");
      if (on) button?.setAttribute("aria-current", "true");
      else button?.removeAttribute("aria-current");
    }
  }

  /** @param {string | null} key */
  async function select(key) {
    if (dirty && key !== selected) {
      const discard = await confirmDialog({
        title: "Discard unsaved changes?",
        body: `The open ${spec.noun} has edits that are not saved.`,
        confirm: "Discard changes",
        danger: true,
      });
      if (!discard) return;
    }
    dirty = false;
    selected = key;
    markSelected();
    drawDetail();
  }

  function drawDetail() {
    if (selected === null) {
      detailSlot.hidden = true;
      mount(detailSlot);
      return;
    }
    detailSlot.hidden = false;
    const ctx = ctxRef;
    void resourceEditor(
      detailSlot,
      ctx,
      selected === NEW ? null : selected,
      {
        close: () => void select(null),
        saved: async (key, version) => {
          dirty = false;
          selected = key;
          ctx.changed(version, spec.store);
          // The list holds summaries: the saved one is read back with the list (by version, only
          // the changed row is redrawn).
          spec.store.invalidate();
          await refresh(false);
          drawDetail();
        },
        deleted: async (version) => {
          dirty = false;
          selected = null;
          ctx.changed(version, spec.store);
          spec.store.invalidate();
          await refresh(false);
          drawDetail();
        },
      },
      spec.editor(ctx, pageApi),
    );
  }

  /** Brings the list up to the environment's version; `force` refetches regardless. @param {boolean} force */
  async function refresh(force) {
    try {
      const version = force ? await ctxRef.currentVersion() : ctxRef.version;
      await spec.store.ensure(env, version, force);
      mount(errorSlot);
    } catch (err) {
      ctxRef.handle(err, errorSlot);
    }
    listSlot.removeAttribute("aria-busy");
  }

  return async function show(panel, ctx) {
    ctxRef = ctx;
    if (env !== ctx.env || !panel.contains(root)) {
      env = ctx.env;
      selected = null;
      dirty = false;
      query = "";
      search.value = "";
      rows.clear();
      tbody.replaceChildren();
      table.querySelector("caption")?.replaceChildren(`${Noun}s in ${env}`);
      listSlot.setAttribute("aria-busy", "true");
      drawDetail();
      mount(panel, root);
      if (spec.store.fresh(env, 0)) filter();
      await refresh(false);
      // The environment's version is checked once the list shows (someone else may have written).
      const version = await ctx.currentVersion().catch(() => ctx.version);
      if (!spec.store.fresh(env, version)) await refresh(false);
      return;
    }
    // Shown again: the rows are still here. The window is checked against the scroll position
    // after the tab is painted (a check forces a layout); the list is refetched only when the
    // environment moved on.
    setTimeout(() => drawWindow(false), 0);
    try {
      const version = await ctx.currentVersion();
      if (!spec.store.fresh(env, version)) await refresh(false);
    } catch (err) {
      ctx.handle(err, errorSlot);
    }
  };
}
