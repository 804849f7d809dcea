// @ts-check
// Segments tab: reusable audiences (key lists + attribute rules). The list shows key counts, never
// the keys themselves (a segment can hold 100k); the JSON editor saves with If-Match like flags.
// The list/detail page is the one flags use (resource-page.js).
import { api } from "./api.js";
import { h } from "./dom.js";
import { resourcePage } from "./resource-page.js";
import { stores } from "./store.js";

const TEMPLATE = { key: "new-segment", description: "", included: [], excluded: [], rules: [] };

/** @param {number} n @param {string} word */
const count = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
/** @param {unknown} a */
const len = (a) => (Array.isArray(a) ? a.length : 0);
/** The list answers counts (`GET …/segments`: includedCount, excludedCount, rules), never the keys. @param {unknown} n */
const num = (n) => (typeof n === "number" ? n : 0).toLocaleString();

export const renderSegments = resourcePage({
  noun: "segment",
  plural: "segments",
  tableClass: "segments-table",
  splitClass: "split",
  detailClass: "flag-detail segment-detail",
  store: stores.segments,
  searchPlaceholder: "Search key or description",
  searchText: (s) => `${s.key} ${s.description ?? ""}`.toLowerCase(),
  intro: h("span", { class: "muted", text: 'Reusable audiences: rules name them with {"segment": key}.' }),
  emptyText: [
    h("p", { text: "No segments in this environment yet." }),
    h("p", { class: "muted", text: "Create one with “New segment”." }),
  ],
  columns: [
    { text: "Included", class: "num" },
    { text: "Excluded", class: "num" },
    { text: "Rules", class: "num" },
    { text: "Version", class: "num" },
  ],
  keyCell: (s) => [s.description ? h("div", { class: "muted desc", title: s.description, text: s.description }) : null],
  cells: (s) => [
    h("td", { class: "num", text: num(s.includedCount) }),
    h("td", { class: "num", text: num(s.excludedCount) }),
    h("td", { class: "num", text: num(s.rules) }),
    h("td", { class: "num muted", text: s.version ?? "" }),
  ],
  editor: (ctx, page) => SEGMENT_EDITOR(ctx, page),
});

/**
 * How the shared editor edits segments: key counts in the header, never the keys.
 * @param {any} ctx @param {import("./resource-page.js").PageApi} page @returns {import("./resource-editor.js").EditorSpec} */
const SEGMENT_EDITOR = (ctx, page) => ({
  noun: "segment",
  id: "segment-json",
  label: "Segment definition (native JSON)",
  rows: 14,
  titleNew: "New segment",
  template: TEMPLATE,
  get: async (key) => {
    const item = await api.segment(ctx.env, key);
    return { version: item.version, item };
  },
  put: (key, body, ifMatch) => api.putSegment(ctx.env, key, body, ifMatch),
  remove: (key, version) => api.deleteSegment(ctx.env, key, version),
  exists: (key) => stores.segments.items.has(key),
  setDirty: page.setDirty,
  badges: (segment) => [
    h("span", {
      class: "muted small",
      text: `${count(len(segment.included), "included key")} · ${count(len(segment.excluded), "excluded key")}`,
    }),
  ],
  deleteWarning: (key) =>
    `Rules that name “${key}” in ${ctx.env} will no longer match it. A rollback from History can restore it.`,
});
