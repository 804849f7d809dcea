// Segments tab: reusable audiences (key lists + attribute rules). The list shows key counts, never
// the keys themselves (a segment can hold 100k); the JSON editor saves with If-Match like flags.
import { api } from "./api.js";
import { confirmDialog, h, mount } from "./dom.js";
import { resourceEditor } from "./resource-editor.js";

const NEW = Symbol("new segment");

const TEMPLATE = { key: "new-segment", description: "", included: [], excluded: [], rules: [] };

/** Per-page state of this tab; reset when the environment changes. */
const view = {
  env: "",
  /** @type {import("../src/store/api").SegmentSummary[]} */ segments: [],
  /** @type {string | typeof NEW | null} */ selected: null,
  dirty: false,
};

const count = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
const len = (a) => (Array.isArray(a) ? a.length : 0);
/** The list answers counts (`GET …/segments`: includedCount, excludedCount, rules), never the keys. */
const num = (n) => (typeof n === "number" ? n : 0).toLocaleString();

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderSegments(panel, ctx) {
  if (view.env !== ctx.env) Object.assign(view, { env: ctx.env, segments: [], selected: null, dirty: false });
  const errorSlot = h("div");
  const listSlot = h("div", { class: "flag-list" }, h("p", { class: "muted pad", text: "Loading segments…" }));
  const detailSlot = h("aside", { class: "flag-detail segment-detail", "aria-label": "Segment details", hidden: true });
  const total = h("span", { class: "muted count" });

  mount(panel,
    h("div", { class: "toolbar" },
      h("span", { class: "muted", text: "Reusable audiences: rules name them with {\"segment\": key}." }),
      total,
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn", on: { click: () => void load() }, text: "Refresh" }),
      h("button", { type: "button", class: "btn btn-primary", id: "segment-new", on: { click: () => void select(NEW) }, text: "New segment" })),
    errorSlot,
    h("div", { class: "split" }, listSlot, detailSlot));

  async function load() {
    try {
      view.segments = (await api.segments(ctx.env)).sort((a, b) => String(a.key).localeCompare(String(b.key)));
      mount(errorSlot);
    } catch (err) {
      ctx.handle(err, errorSlot);
    }
    drawList();
  }

  async function select(key) {
    if (view.dirty && key !== view.selected) {
      const discard = await confirmDialog({ title: "Discard unsaved changes?", body: "The open segment has edits that are not saved.", confirm: "Discard changes", danger: true });
      if (!discard) return;
    }
    view.dirty = false;
    view.selected = key;
    drawList();
    drawDetail();
  }

  function drawList() {
    total.textContent = count(view.segments.length, "segment");
    panel.querySelector(".split")?.classList.toggle("with-detail", view.selected !== null);
    if (view.segments.length === 0) {
      mount(listSlot, h("div", { class: "empty" },
        h("p", { text: "No segments in this environment yet." }),
        h("p", { class: "muted", text: "Create one with “New segment”." })));
      return;
    }
    mount(listSlot, h("table", { class: "table segments-table" },
      h("caption", { class: "sr-only", text: `Segments in ${ctx.env}` }),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: "Segment" }),
        h("th", { scope: "col", class: "num", text: "Included" }),
        h("th", { scope: "col", class: "num", text: "Excluded" }),
        h("th", { scope: "col", class: "num", text: "Rules" }),
        h("th", { scope: "col", class: "num", text: "Version" }))),
      h("tbody", {}, view.segments.map((s) => {
        const selected = view.selected === s.key;
        return h("tr", { class: selected ? "selected" : "", dataset: { key: s.key } },
          h("td", { class: "flag-cell" },
            h("button", { type: "button", class: "link flag-key", "aria-current": selected ? "true" : null, on: { click: () => void select(s.key) }, text: s.key }),
            s.description ? h("div", { class: "muted desc", title: s.description, text: s.description }) : null),
          h("td", { class: "num", text: num(s.includedCount) }),
          h("td", { class: "num", text: num(s.excludedCount) }),
          h("td", { class: "num", text: num(s.rules) }),
          h("td", { class: "num muted", text: s.version ?? "" }));
      }))));
  }

  function drawDetail() {
    if (view.selected === null) {
      detailSlot.hidden = true;
      mount(detailSlot);
      return;
    }
    detailSlot.hidden = false;
    resourceEditor(detailSlot, ctx, view.selected === NEW ? null : view.selected, {
      close: () => void select(null),
      saved: async (key) => { view.dirty = false; view.selected = key; await load(); drawDetail(); void ctx.changed(); },
      deleted: async () => { view.dirty = false; view.selected = null; await load(); drawDetail(); void ctx.changed(); },
    }, SEGMENT_EDITOR(ctx));
  }

  await load();
  drawDetail();
}

/** How the shared editor edits segments: key counts in the header, never the keys. */
const SEGMENT_EDITOR = (ctx) => ({
  noun: "segment",
  id: "segment-json",
  label: "Segment definition (native JSON)",
  rows: 14,
  titleNew: "New segment",
  template: TEMPLATE,
  get: async (key) => { const got = await api.segment(ctx.env, key); return { version: got.version, item: got.segment }; },
  put: (key, body, ifMatch) => api.putSegment(ctx.env, key, body, ifMatch),
  remove: (key, version) => api.deleteSegment(ctx.env, key, version),
  exists: (key) => view.segments.some((s) => s.key === key),
  setDirty: (dirty) => { view.dirty = dirty; },
  badges: (segment) => [h("span", { class: "muted small", text: `${count(len(segment.included), "included key")} · ${count(len(segment.excluded), "excluded key")}` })],
  deleteWarning: (key) => `Rules that name “${key}” in ${ctx.env} will no longer match it. A rollback from History can restore it.`,
});
