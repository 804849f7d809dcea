// Segments tab: reusable audiences (key lists + attribute rules). The list shows key counts, never
// the keys themselves (a segment can hold 100k); the JSON editor saves with If-Match like flags.
import { api } from "./api.js";
import { confirmDialog, errorBox, h, mount, notice, pretty } from "./dom.js";

const NEW = Symbol("new segment");

const TEMPLATE = { key: "new-segment", description: "", included: [], excluded: [], rules: [] };

/** Per-page state of this tab; reset when the environment changes. */
const view = {
  env: "",
  /** @type {any[]} */ segments: [],
  /** @type {string | typeof NEW | null} */ selected: null,
  dirty: false,
};

const count = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
const len = (a) => (Array.isArray(a) ? a.length : 0);

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
          h("td", { class: "num", text: len(s.included).toLocaleString() }),
          h("td", { class: "num", text: len(s.excluded).toLocaleString() }),
          h("td", { class: "num", text: len(s.rules).toLocaleString() }),
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
    segmentEditor(detailSlot, ctx, view.selected === NEW ? null : view.selected, {
      close: () => void select(null),
      saved: async (key) => { view.dirty = false; view.selected = key; await load(); drawDetail(); void ctx.changed(); },
      deleted: async () => { view.dirty = false; view.selected = null; await load(); drawDetail(); void ctx.changed(); },
    });
  }

  await load();
  drawDetail();
}

/** The segment as the editor shows it: without the server's `version`. */
function editable(segment) {
  const { version: _v, ...rest } = segment ?? {};
  return rest;
}

/**
 * @param {HTMLElement} slot
 * @param {any} ctx
 * @param {string | null} key null for a new segment
 * @param {{close: () => void, saved: (key: string) => Promise<void>, deleted: () => Promise<void>}} on
 */
async function segmentEditor(slot, ctx, key, on) {
  const isNew = key === null;
  const status = h("div", { class: "editor-status", id: "segment-json-status", "aria-live": "polite" });
  const messages = h("div", { class: "messages" });
  const textarea = /** @type {HTMLTextAreaElement} */ (h("textarea", {
    id: "segment-json", class: "code", spellcheck: "false", rows: "14", "aria-describedby": "segment-json-status",
  }));
  let version = /** @type {number | undefined} */ (undefined);
  let original = "";
  let sizes = "";

  const header = h("div", { class: "detail-head" });
  const drawHeader = () => mount(header,
    h("div", { class: "detail-title" },
      h("h2", { text: isNew ? "New segment" : key }),
      version !== undefined ? h("span", { class: "muted small", title: "Segment version (ETag)", text: `v${version}` }) : null,
      sizes ? h("span", { class: "muted small", text: sizes }) : null),
    h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Close details", on: { click: on.close }, text: "✕" }));
  mount(slot, header, h("p", { class: "muted pad", text: "Loading…" }));
  drawHeader();

  if (isNew) {
    original = pretty(TEMPLATE);
  } else {
    try {
      const got = await api.segment(ctx.env, key);
      version = got.version;
      original = pretty(editable(got.segment));
      sizes = `${count(len(got.segment.included), "included key")} · ${count(len(got.segment.excluded), "excluded key")}`;
    } catch (err) {
      const box = h("div");
      mount(slot, header, box);
      ctx.handle(err, box);
      return;
    }
  }
  textarea.value = original;

  const parsed = () => {
    try { return { ok: true, value: JSON.parse(textarea.value) }; } catch (e) { return { ok: false, message: e instanceof Error ? e.message : String(e) }; }
  };

  const saveButton = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary", on: { click: () => void save() }, text: isNew ? "Create segment" : "Save" }));

  function updateStatus() {
    const p = parsed();
    const dirty = textarea.value !== original;
    view.dirty = dirty;
    status.className = `editor-status ${p.ok ? "" : "bad"}`;
    status.textContent = p.ok ? (dirty ? "Unsaved changes" : "No changes") : `Invalid JSON: ${p.message}`;
    saveButton.disabled = !p.ok || (!dirty && !isNew);
  }

  async function save() {
    const p = parsed();
    if (!p.ok) return;
    const body = p.value && typeof p.value === "object" && !Array.isArray(p.value) ? editable(p.value) : p.value;
    const newKey = typeof body?.key === "string" ? body.key : "";
    if (!newKey) return mount(messages, errorBox({ code: "INVALID", message: "The segment needs a string \"key\"." }));
    if (!isNew && newKey !== key) {
      return mount(messages, errorBox({ code: "KEY_CHANGED", message: `The key cannot change here (was "${key}"). Use “New segment” to create a copy under another key.` }));
    }
    if (isNew && view.segments.some((s) => s.key === newKey)) {
      return mount(messages, errorBox({ code: "EXISTS", message: `A segment "${newKey}" already exists in ${ctx.env}: open it to edit, or pick another key.` }));
    }
    saveButton.disabled = true;
    try {
      const { status: code } = await api.putSegment(ctx.env, newKey, body, isNew ? undefined : version);
      mount(messages, notice(code === 201 ? `Created ${newKey}.` : `Saved ${newKey}.`));
      await on.saved(newKey);
    } catch (err) {
      saveButton.disabled = false;
      if (err?.status === 412) return showConflict();
      ctx.handle(err, messages);
    }
  }

  async function showConflict(action = "save") {
    let latest = null;
    try { latest = await api.segment(ctx.env, /** @type {string} */ (key)); } catch { /* deleted meanwhile: said below */ }
    const nothing = `Nothing was ${action === "save" ? "saved" : "deleted"}`;
    mount(messages, h("div", { class: "alert alert-warn", role: "alert" },
      h("strong", { text: "Conflict (412): " }),
      h("span", { text: latest
        ? `this segment changed since you opened it (you had v${version}, the server has v${latest.version}). ${nothing}; your edits are still in the editor.`
        : `this segment was changed or deleted since you opened it. ${nothing}.` }),
      h("div", { class: "actions-inline" },
        h("button", { type: "button", class: "btn btn-small", on: { click: () => { view.dirty = false; void segmentEditor(slot, ctx, key, on); } }, text: "Reload latest (discard my edits)" }))));
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete ${key}?`,
      body: `Rules that name “${key}” in ${ctx.env} will no longer match it. A rollback from History can restore it.`,
      confirm: "Delete segment",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteSegment(ctx.env, /** @type {string} */ (key), version);
      await on.deleted();
    } catch (err) {
      if (err?.status === 412) return showConflict("delete");
      ctx.handle(err, messages);
    }
  }

  textarea.addEventListener("input", updateStatus);
  mount(slot, header,
    h("section", { class: "detail-section", "aria-labelledby": "segment-editor-title" },
      h("div", { class: "section-head" },
        h("h3", { id: "segment-editor-title" }, h("label", { for: "segment-json", text: "Segment definition (native JSON)" })),
        h("span", { class: "spacer" }),
        h("button", { type: "button", class: "btn btn-small", on: { click: () => { textarea.value = original; mount(messages); updateStatus(); } }, text: "Revert" })),
      textarea,
      status,
      messages,
      h("div", { class: "actions" },
        isNew ? null : h("button", { type: "button", class: "btn btn-danger-outline", on: { click: () => void remove() }, text: "Delete…" }),
        h("span", { class: "spacer" }),
        saveButton)));
  drawHeader();
  updateStatus();
}
