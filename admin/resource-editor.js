// @ts-check
// The JSON editor of one keyed, versioned resource (a flag or a segment): load, edit, save with
// If-Match (a concurrent change answers 412 and keeps the user's edits), delete, conflict help.
// Flags and segments differ only in the `spec` they pass; the API they edit is one shape too
// (src/admin/versioned-resource.ts).
import { ApiError } from "./api.js";
import { confirmDialog, errorBox, h, mount, notice, pretty } from "./dom.js";

/**
 * @typedef {object} EditorSpec
 * @property {string} noun "flag" or "segment", for messages
 * @property {string} id the textarea's id (its status line is `${id}-status`)
 * @property {string} label the editor's accessible label
 * @property {number} rows
 * @property {string} titleNew heading of a new item
 * @property {object} template what a new item starts as
 * @property {(key: string) => Promise<{ version: number, item: any }>} get
 * @property {(key: string, body: any, ifMatch: number | undefined) => Promise<{ status: number, data: any }>} put answers the stored item (with its `version`), or a held change request (202)
 * @property {(key: string, version: number | undefined) => Promise<{ data: any }>} remove answers `{deleted, version}`
 * @property {(key: string) => boolean} exists whether the list already has this key (refuse to overwrite on create)
 * @property {(dirty: boolean) => void} setDirty
 * @property {(item: any) => any[]} badges header badges of a loaded item
 * @property {(key: string) => string} deleteWarning
 * @property {(key: string | null, draft: () => Draft) => HTMLElement | null} [extra] a section below the editor (Explain for flags), given the unsaved draft
 * @property {(item: any, onChange: () => void) => Promise<FormView>} [visual] a form over the item (flags); the JSON view stays one click away
 */

/**
 * @typedef {object} FormView
 * @property {HTMLElement} element
 * @property {() => any} value the item as JSON
 * @property {() => { path: string, message: string, warning?: boolean }[]} issues errors block Save, warnings only show
 */

/** @typedef {{ ok: true, value: any } | { ok: false, message: string }} Draft */

/** The view each editor (by spec id) showed last: reopening or reloading keeps the user's choice. @type {Map<string, "visual" | "json">} */
const lastView = new Map();

/** JSON text with object keys sorted: two items are the same when these are equal. @param {any} value */
const canonical = (value) =>
  JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );

/**
 * The item as the editor shows it: the native model without the server's read-only fields
 * (`version`, and a flag's computed `status`, `stale`, `lastEvaluatedAt`: the server ignores them
 * on PUT, and they change while the editor is open).
 */
export function editable(/** @type {any} */ item) {
  const { version: _v, status: _s, stale: _st, lastEvaluatedAt: _l, ...rest } = item ?? {};
  return rest;
}

/**
 * @param {HTMLElement} slot
 * @param {any} ctx the page context (`env`, `handle`)
 * @param {string | null} key null for a new item
 * @param {{close: () => void, saved: (key: string, version: number | undefined) => Promise<void>, deleted: (version: number | undefined) => Promise<void>}} on
 *   `version`: the environment's version after the write (undefined: held as a change request)
 * @param {EditorSpec} spec
 */
export async function resourceEditor(slot, ctx, key, on, spec) {
  const isNew = key === null;
  const Noun = spec.noun[0].toUpperCase() + spec.noun.slice(1);
  const status = h("div", { class: "editor-status", id: `${spec.id}-status`, "aria-live": "polite" });
  const messages = h("div", { class: "messages" });
  const textarea = /** @type {HTMLTextAreaElement} */ (
    h("textarea", {
      id: spec.id,
      class: "code",
      spellcheck: "false",
      rows: String(spec.rows),
      "aria-describedby": `${spec.id}-status`,
    })
  );
  let version = /** @type {number | undefined} */ (undefined);
  /** @type {any} */
  let item = null;
  let original = "";

  const header = h("div", { class: "detail-head" });
  const drawHeader = () =>
    mount(
      header,
      h(
        "div",
        { class: "detail-title" },
        h("h2", { text: isNew ? spec.titleNew : key }),
        ...(item ? spec.badges(item) : []),
        version !== undefined
          ? h("span", {
              class: "muted small",
              title: `${Noun} version (ETag): the environment version of its last change`,
              text: `v${version}`,
            })
          : null,
      ),
      h("button", {
        type: "button",
        class: "btn btn-ghost btn-small",
        "aria-label": "Close details",
        on: { click: on.close },
        text: "✕",
      }),
    );
  mount(slot, header, h("p", { class: "muted pad", text: "Loading…" }));
  drawHeader();

  if (isNew) {
    original = pretty(spec.template);
  } else {
    try {
      ({ version, item } = await spec.get(key));
      original = pretty(editable(item));
    } catch (err) {
      const box = h("div");
      mount(slot, header, box);
      ctx.handle(err, box);
      return;
    }
  }
  textarea.value = original;

  /** @returns {Draft} */
  const parsed = () => {
    try {
      return { ok: true, value: JSON.parse(textarea.value) };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  };
  const originalValue = JSON.parse(original);
  /** The visual form when it is the active view; null: the JSON textarea is. @type {FormView | null} */
  let form = null;
  /** @returns {Draft} */
  const current = () => (form ? { ok: true, value: form.value() } : parsed());
  const body = h("div", { class: "editor-body" });

  const saveButton = /** @type {HTMLButtonElement} */ (
    h("button", {
      type: "button",
      class: "btn btn-primary",
      on: { click: () => void save() },
      text: isNew ? `Create ${spec.noun}` : "Save",
    })
  );

  function updateStatus() {
    const p = current();
    const dirty = form ? canonical(p.ok && p.value) !== canonical(originalValue) : textarea.value !== original;
    const issues = form ? form.issues() : [];
    const errors = issues.filter((i) => !i.warning);
    spec.setDirty(dirty);
    status.className = `editor-status ${p.ok && errors.length === 0 ? "" : "bad"}`;
    status.textContent = !p.ok
      ? `Invalid JSON: ${p.message}`
      : errors.length
        ? `Cannot save yet: ${errors.map((i) => i.message).join("; ")}`
        : dirty
          ? "Unsaved changes"
          : "No changes";
    saveButton.disabled = !p.ok || errors.length > 0 || (!dirty && !isNew);
  }

  async function save() {
    const p = current();
    if (!p.ok) return;
    const body = p.value && typeof p.value === "object" && !Array.isArray(p.value) ? editable(p.value) : p.value;
    const newKey = typeof body?.key === "string" ? body.key : "";
    if (!newKey)
      return mount(messages, errorBox({ code: "INVALID", message: `The ${spec.noun} needs a string "key".` }));
    if (!isNew && newKey !== key) {
      return mount(
        messages,
        errorBox({
          code: "KEY_CHANGED",
          message: `The key cannot change here (was "${key}"). Use “New ${spec.noun}” to create a copy under another key.`,
        }),
      );
    }
    if (isNew && spec.exists(newKey)) {
      return mount(
        messages,
        errorBox({
          code: "EXISTS",
          message: `A ${spec.noun} "${newKey}" already exists in ${ctx.env}: open it to edit, or pick another key.`,
        }),
      );
    }
    saveButton.disabled = true;
    try {
      const { status: code, data } = await spec.put(newKey, body, isNew ? undefined : version);
      mount(messages, notice(code === 201 ? `Created ${newKey}.` : `Saved ${newKey}.`));
      await on.saved(newKey, code === 202 ? undefined : data?.version);
    } catch (err) {
      saveButton.disabled = false;
      if (err instanceof ApiError && err.status === 412) return showConflict();
      ctx.handle(err, messages);
    }
  }

  async function showConflict(action = "save") {
    let latest = null;
    try {
      latest = await spec.get(/** @type {string} */ (key));
    } catch {
      /* deleted meanwhile: said below */
    }
    const nothing = `Nothing was ${action === "save" ? "saved" : "deleted"}`;
    mount(
      messages,
      h(
        "div",
        { class: "alert alert-warn", role: "alert" },
        h("strong", { text: "Conflict (412): " }),
        h("span", {
          text: latest
            ? `this ${spec.noun} changed since you opened it (you had v${version}, the server has v${latest.version}). ${nothing}; your edits are still in the editor.`
            : `this ${spec.noun} was changed or deleted since you opened it. ${nothing}.`,
        }),
        h(
          "div",
          { class: "actions-inline" },
          h("button", {
            type: "button",
            class: "btn btn-small",
            on: {
              click: () => {
                spec.setDirty(false);
                void resourceEditor(slot, ctx, key, on, spec);
              },
            },
            text: "Reload latest (discard my edits)",
          }),
        ),
        latest
          ? h(
              "details",
              {},
              h("summary", { text: `Show v${latest.version} from the server` }),
              h("pre", { class: "code small", text: pretty(editable(latest.item)) }),
            )
          : null,
      ),
    );
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete ${key}?`,
      body: spec.deleteWarning(/** @type {string} */ (key)),
      confirm: `Delete ${spec.noun}`,
      danger: true,
    });
    if (!ok) return;
    try {
      const { data } = await spec.remove(/** @type {string} */ (key), version);
      await on.deleted(typeof data?.version === "number" ? data.version : undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) return showConflict("delete");
      ctx.handle(err, messages);
    }
  }

  textarea.addEventListener("input", updateStatus);
  // Tab inserts two spaces instead of leaving the editor; Escape then Tab still leaves (no trap).
  let escaped = false;
  textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      escaped = true;
      return;
    }
    if (ev.key === "Tab" && !ev.shiftKey && !escaped) {
      ev.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      updateStatus();
    }
    escaped = false;
  });

  const titleId = `${spec.id}-title`;
  const jsonTools = h(
    "span",
    { class: "tools" },
    h("button", {
      type: "button",
      class: "btn btn-small",
      on: {
        click: () => {
          const p = parsed();
          if (p.ok) {
            textarea.value = pretty(p.value);
            updateStatus();
          }
        },
      },
      text: "Format",
    }),
  );
  const revert = h("button", {
    type: "button",
    class: "btn btn-small",
    on: {
      click: () => {
        textarea.value = original;
        mount(messages);
        void show(form ? "visual" : "json");
      },
    },
    text: "Revert",
  });
  const views = spec.visual
    ? h(
        "div",
        { class: "view-switch", role: "group", "aria-label": "Editor view" },
        h("button", {
          type: "button",
          class: "btn btn-small",
          id: `${spec.id}-view-visual`,
          "aria-pressed": "true",
          on: { click: () => void show("visual") },
          text: "Visual",
        }),
        h("button", {
          type: "button",
          class: "btn btn-small",
          id: `${spec.id}-view-json`,
          "aria-pressed": "false",
          on: { click: () => void show("json") },
          text: "JSON",
        }),
      )
    : null;
  const heading = h("h3", { id: titleId });

  let switches = 0;
  /**
   * Shows the visual form or the JSON textarea. Each switch carries the current edits across:
   * JSON → form only when the text parses (else the JSON view stays, with the error).
   * @param {"visual" | "json"} view
   */
  async function show(view) {
    // The visual form loads lists first (segments, kinds): a switch made meanwhile wins, so a
    // slow load never replaces a JSON view the user already chose (and the edits typed into it).
    const turn = ++switches;
    if (view === "json" || !spec.visual) {
      if (form) textarea.value = pretty(form.value());
      form = null;
      mount(heading, h("label", { for: spec.id, text: spec.label }));
      mount(body, textarea);
    } else {
      const p = parsed();
      if (!p.ok) {
        status.className = "editor-status bad";
        status.textContent = `Invalid JSON: ${p.message} (fix it to use the visual editor)`;
        return;
      }
      let built;
      try {
        built = await spec.visual(p.value, updateStatus);
      } catch (e) {
        if (turn !== switches) return;
        status.className = "editor-status bad";
        status.textContent = `The visual editor cannot show this ${spec.noun}: ${e instanceof Error ? e.message : e}`;
        return;
      }
      if (turn !== switches) return;
      form = built;
      mount(heading, `${Noun} definition`);
      mount(body, form.element);
    }
    lastView.set(spec.id, form ? "visual" : "json");
    jsonTools.hidden = form !== null;
    views
      ?.querySelectorAll("button")
      .forEach((b) => b.setAttribute("aria-pressed", String(b.id.endsWith(form ? "visual" : "json"))));
    updateStatus();
  }

  mount(
    slot,
    header,
    h(
      "section",
      { class: "detail-section", "aria-labelledby": titleId },
      h("div", { class: "section-head" }, heading, h("span", { class: "spacer" }), views, jsonTools, revert),
      body,
      status,
      messages,
      h(
        "div",
        { class: "actions" },
        isNew
          ? null
          : h("button", {
              type: "button",
              class: "btn btn-danger-outline",
              on: { click: () => void remove() },
              text: "Delete…",
            }),
        h("span", { class: "spacer" }),
        saveButton,
      ),
    ),
    spec.extra ? spec.extra(key, current) : null,
  );
  drawHeader();
  await show(spec.visual ? (lastView.get(spec.id) ?? "visual") : "json");
}
