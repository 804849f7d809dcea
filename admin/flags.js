// Flags tab: searchable list with on/off switches, and a detail pane with the JSON editor
// (saved with If-Match so a concurrent change answers 412 instead of being overwritten) and
// the Explain panel.
import { api } from "./api.js";
import { confirmDialog, errorBox, h, mount, notice, pretty } from "./dom.js";

const NEW = Symbol("new flag");

const TEMPLATE = {
  key: "new-flag",
  type: "boolean",
  description: "",
  variants: { on: true, off: false },
  defaultVariant: "off",
  enabled: true,
  clientVisible: false,
  tags: [],
  rules: [],
};

/** Per-page state of this tab; reset when the environment changes. */
const view = {
  env: "",
  /** @type {any[]} */ flags: [],
  query: "",
  /** @type {string | typeof NEW | null} */ selected: null,
  /** The open editor holds unsaved edits: don't replace it without asking. */
  dirty: false,
  contexts: /** @type {Record<string, string>} */ ({}),
};

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderFlags(panel, ctx) {
  if (view.env !== ctx.env) Object.assign(view, { env: ctx.env, flags: [], query: "", selected: null, dirty: false });
  const errorSlot = h("div");
  const listSlot = h("div", { class: "flag-list", "aria-busy": "true" }, h("p", { class: "muted pad", text: "Loading flags…" }));
  const detailSlot = h("aside", { class: "flag-detail", "aria-label": "Flag details", hidden: true });
  const count = h("span", { class: "muted count" });

  const search = /** @type {HTMLInputElement} */ (h("input", {
    type: "search", id: "flag-search", placeholder: "Search key, description or tag", value: view.query, autocomplete: "off",
    on: { input: () => { view.query = search.value; drawList(); } },
  }));

  mount(panel,
    h("div", { class: "toolbar" },
      h("label", { for: "flag-search", class: "sr-only", text: "Search flags" }),
      search,
      count,
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn", on: { click: () => void load() } , text: "Refresh" }),
      h("button", { type: "button", class: "btn btn-primary", id: "flag-new", on: { click: () => void select(NEW) }, text: "New flag" })),
    errorSlot,
    h("div", { class: "split" }, listSlot, detailSlot));

  async function load() {
    try {
      view.flags = (await api.flags(ctx.env)).sort((a, b) => String(a.key).localeCompare(String(b.key)));
      mount(errorSlot);
    } catch (err) {
      ctx.handle(err, errorSlot);
    }
    listSlot.removeAttribute("aria-busy");
    drawList();
  }

  async function select(key) {
    if (view.dirty && key !== view.selected) {
      const discard = await confirmDialog({
        title: "Discard unsaved changes?",
        body: "The open flag has edits that are not saved.",
        confirm: "Discard changes",
        danger: true,
      });
      if (!discard) return;
    }
    view.dirty = false;
    view.selected = key;
    drawList();
    drawDetail();
  }

  function matches(flag) {
    const q = view.query.trim().toLowerCase();
    if (!q) return true;
    const hay = [flag.key, describe(flag), ...(Array.isArray(flag.tags) ? flag.tags : [])].join(" ").toLowerCase();
    return q.split(/\s+/).every((word) => hay.includes(word));
  }

  function drawList() {
    const shown = view.flags.filter(matches);
    count.textContent = view.flags.length === shown.length ? `${shown.length} flag${shown.length === 1 ? "" : "s"}` : `${shown.length} of ${view.flags.length}`;
    panel.querySelector(".split")?.classList.toggle("with-detail", view.selected !== null);
    if (view.flags.length === 0) {
      mount(listSlot, h("div", { class: "empty" },
        h("p", { text: "No flags in this environment yet." }),
        h("p", { class: "muted", text: "Create one with “New flag”, or import a flagd file under Import / export." })));
      return;
    }
    mount(listSlot, h("table", { class: "table flags-table" },
      h("caption", { class: "sr-only", text: `Flags in ${ctx.env}` }),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: "Flag" }),
        h("th", { scope: "col", text: "Type" }),
        h("th", { scope: "col", text: "Status" }),
        h("th", { scope: "col", text: "Default" }),
        h("th", { scope: "col", class: "col-opt", text: "Targeting" }),
        h("th", { scope: "col", text: "Tags" }),
        h("th", { scope: "col", class: "num", text: "Version" }))),
      h("tbody", {}, shown.map(row)),
    ));
    if (shown.length === 0) listSlot.appendChild(h("p", { class: "muted pad", text: "No flag matches the search." }));
  }

  function row(flag) {
    const selected = view.selected === flag.key;
    return h("tr", { class: selected ? "selected" : "", dataset: { key: flag.key } },
      h("td", { class: "flag-cell" },
        h("button", {
          type: "button", class: "link flag-key", "aria-current": selected ? "true" : null,
          on: { click: () => void select(flag.key) }, text: flag.key,
        }),
        flag.clientVisible ? h("span", { class: "badge badge-client", title: "Visible to client-side SDK keys", text: "client" }) : null,
        describe(flag) ? h("div", { class: "muted desc", title: describe(flag), text: describe(flag) }) : null),
      h("td", {}, h("span", { class: `type type-${flag.type}`, text: flag.type })),
      h("td", {}, toggleSwitch(flag)),
      h("td", {}, defaultCell(flag)),
      h("td", { class: "col-opt muted" }, targetingSummary(flag)),
      h("td", { class: "tags" }, (Array.isArray(flag.tags) ? flag.tags : []).map((t) => h("span", { class: "tag", text: t }))),
      h("td", { class: "num muted", text: flag.version ?? "" }),
    );
  }

  function toggleSwitch(flag) {
    const on = flag.enabled !== false;
    const button = h("button", {
      type: "button", role: "switch", class: "switch", "aria-checked": String(on),
      "aria-label": `${flag.key} enabled`, title: on ? "On: serving targeting" : "Off: answers DISABLED, clients use code defaults",
      on: {
        click: async () => {
          button.setAttribute("disabled", "");
          try {
            const { data } = await api.toggle(ctx.env, flag.key, !on);
            // The server answers the updated flag (with its new version).
            const updated = data && typeof data === "object" && data.key === flag.key ? data : { ...flag, enabled: !on };
            view.flags = view.flags.map((f) => (f.key === flag.key ? updated : f));
            mount(errorSlot);
            drawList();
            // Reload an open editor unless it holds edits (its Save then answers 412, clearly).
            if (view.selected === flag.key && !view.dirty) drawDetail();
            void ctx.changed();
          } catch (err) {
            button.removeAttribute("disabled");
            ctx.handle(err, errorSlot);
          }
        },
      },
    }, h("span", { class: "switch-knob", "aria-hidden": "true" }));
    return h("span", { class: "switch-wrap" }, button, h("span", { class: on ? "state-on" : "state-off", "aria-hidden": "true", text: on ? "On" : "Off" }));
  }

  function drawDetail() {
    if (view.selected === null) {
      detailSlot.hidden = true;
      mount(detailSlot);
      return;
    }
    detailSlot.hidden = false;
    flagEditor(detailSlot, ctx, view.selected === NEW ? null : view.selected, {
      close: () => void select(null),
      saved: async (key) => { view.dirty = false; view.selected = key; await load(); drawDetail(); void ctx.changed(); },
      deleted: async () => { view.dirty = false; view.selected = null; await load(); drawDetail(); void ctx.changed(); },
    });
  }

  await load();
  drawDetail();
}

/** The description, or flagd's habit of keeping it in metadata. */
function describe(flag) {
  if (typeof flag.description === "string" && flag.description) return flag.description;
  const fromMeta = flag.metadata?.description;
  return typeof fromMeta === "string" ? fromMeta : "";
}

function defaultCell(flag) {
  const variant = flag.defaultVariant;
  if (variant === null || variant === undefined) return h("span", { class: "muted", title: "No default variant: clients use their code default", text: "—" });
  const value = flag.variants?.[variant];
  const shown = value === undefined ? "" : JSON.stringify(value);
  return h("span", { class: "default" },
    h("code", { text: variant }),
    shown && flag.type !== "object" ? h("span", { class: "muted value", title: shown, text: ` ${shown.length > 24 ? shown.slice(0, 23) + "…" : shown}` }) : null);
}

function targetingSummary(flag) {
  if (flag.targeting !== undefined && flag.targeting !== null) return "JSON Logic";
  const parts = [];
  const targets = Array.isArray(flag.targets) ? flag.targets.reduce((n, t) => n + (t.values?.length ?? 0), 0) : 0;
  const rules = Array.isArray(flag.rules) ? flag.rules.length : 0;
  if (targets) parts.push(`${targets} target${targets === 1 ? "" : "s"}`);
  if (rules) parts.push(`${rules} rule${rules === 1 ? "" : "s"}`);
  if (flag.fallthrough && "rollout" in flag.fallthrough) parts.push("rollout");
  if (Array.isArray(flag.prerequisites) && flag.prerequisites.length) parts.push("prereqs");
  return parts.length ? parts.join(" · ") : "static";
}

/** The flag as the editor shows it: the native model without the server's `version`. */
function editable(flag) {
  const { version: _v, ...rest } = flag;
  return rest;
}

/**
 * The detail pane: loads the flag, edits its JSON, saves with If-Match, deletes, explains.
 * @param {HTMLElement} slot
 * @param {any} ctx
 * @param {string | null} key null for a new flag
 * @param {{close: () => void, saved: (key: string) => Promise<void>, deleted: () => Promise<void>}} on
 */
async function flagEditor(slot, ctx, key, on) {
  const isNew = key === null;
  const status = h("div", { class: "editor-status", "aria-live": "polite" });
  const messages = h("div", { class: "messages" });
  const textarea = /** @type {HTMLTextAreaElement} */ (h("textarea", {
    id: "flag-json", class: "code", spellcheck: "false", rows: "12", "aria-describedby": "flag-json-status",
  }));
  status.id = "flag-json-status";
  let version = /** @type {number | undefined} */ (undefined);
  let original = "";

  const header = h("div", { class: "detail-head" });
  mount(slot, header, h("p", { class: "muted pad", text: "Loading…" }));

  if (isNew) {
    original = pretty(TEMPLATE);
  } else {
    try {
      const got = await api.flag(ctx.env, key);
      version = got.version;
      original = pretty(editable(got.flag));
    } catch (err) {
      mount(slot, header);
      drawHeader(null);
      const box = h("div");
      slot.appendChild(box);
      ctx.handle(err, box);
      return;
    }
  }
  textarea.value = original;

  function drawHeader(flag) {
    mount(header,
      h("div", { class: "detail-title" },
        h("h2", { text: isNew ? "New flag" : key }),
        flag ? h("span", { class: `type type-${flag.type}`, text: flag.type }) : null,
        flag && flag.enabled === false ? h("span", { class: "badge badge-off", text: "off" }) : null,
        flag?.clientVisible ? h("span", { class: "badge badge-client", text: "client" }) : null,
        version !== undefined ? h("span", { class: "muted small", title: "Flag version (ETag): the environment version of its last change", text: `v${version}` }) : null),
      h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Close details", on: { click: on.close }, text: "✕" }));
  }

  function parsed() {
    try { return { ok: true, value: JSON.parse(textarea.value) }; } catch (e) { return { ok: false, message: e instanceof Error ? e.message : String(e) }; }
  }

  function updateStatus() {
    const p = parsed();
    const dirty = textarea.value !== original;
    view.dirty = dirty;
    status.className = `editor-status ${p.ok ? "" : "bad"}`;
    status.textContent = p.ok ? (dirty ? "Unsaved changes" : "No changes") : `Invalid JSON: ${p.message}`;
    saveButton.disabled = !p.ok || (!dirty && !isNew);
  }

  const saveButton = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn btn-primary", on: { click: () => void save() }, text: isNew ? "Create flag" : "Save" }));

  async function save() {
    const p = parsed();
    if (!p.ok) return;
    const body = p.value && typeof p.value === "object" ? editable(p.value) : p.value;
    const newKey = typeof body?.key === "string" ? body.key : "";
    if (!newKey) return mount(messages, errorBox({ code: "INVALID", message: "The flag needs a string \"key\"." }));
    if (!isNew && newKey !== key) {
      return mount(messages, errorBox({ code: "KEY_CHANGED", message: `The key cannot change here (was "${key}"). Use “New flag” to create a copy under another key.` }));
    }
    if (isNew && view.flags.some((f) => f.key === newKey)) {
      return mount(messages, errorBox({ code: "EXISTS", message: `A flag "${newKey}" already exists in ${ctx.env}: open it to edit, or pick another key.` }));
    }
    saveButton.disabled = true;
    try {
      const { status: code } = await api.putFlag(ctx.env, newKey, body, isNew ? undefined : version);
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
    try { latest = await api.flag(ctx.env, /** @type {string} */ (key)); } catch { /* deleted meanwhile: say so below */ }
    mount(messages, h("div", { class: "alert alert-warn", role: "alert" },
      h("strong", { text: "Conflict (412): " }),
      h("span", { text: latest
        ? `this flag changed since you opened it (you had v${version}, the server has v${latest.version}). Nothing was ${action === "save" ? "saved" : "deleted"}; your edits are still in the editor.`
        : `this flag was changed or deleted since you opened it. Nothing was ${action === "save" ? "saved" : "deleted"}.` }),
      h("div", { class: "actions-inline" },
        h("button", { type: "button", class: "btn btn-small", on: { click: () => void flagEditor(slot, ctx, key, on) }, text: "Reload latest (discard my edits)" })),
      latest ? h("details", {}, h("summary", { text: `Show v${latest.version} from the server` }), h("pre", { class: "code small", text: pretty(editable(latest.flag)) })) : null));
  }

  async function remove() {
    const ok = await confirmDialog({
      title: `Delete ${key}?`,
      body: `Evaluations of “${key}” will answer FLAG_NOT_FOUND in ${ctx.env}. A rollback from History can restore it.`,
      confirm: "Delete flag",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteFlag(ctx.env, /** @type {string} */ (key), version);
      await on.deleted();
    } catch (err) {
      if (err?.status === 412) return showConflict("delete");
      ctx.handle(err, messages);
    }
  }

  textarea.addEventListener("input", updateStatus);
  // Tab inserts two spaces instead of leaving the editor; Escape then Tab still leaves (no trap).
  let escaped = false;
  textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { escaped = true; return; }
    if (ev.key === "Tab" && !ev.shiftKey && !escaped) {
      ev.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      updateStatus();
    }
    escaped = false;
  });

  const editor = h("section", { class: "detail-section", "aria-labelledby": "editor-title" },
    h("div", { class: "section-head" },
      h("h3", { id: "editor-title" }, h("label", { for: "flag-json", text: "Definition (native JSON)" })),
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn btn-small", on: { click: () => { const p = parsed(); if (p.ok) { textarea.value = pretty(p.value); updateStatus(); } } }, text: "Format" }),
      h("button", { type: "button", class: "btn btn-small", on: { click: () => { textarea.value = original; mount(messages); updateStatus(); } }, text: "Revert" })),
    textarea,
    status,
    messages,
    h("div", { class: "actions" },
      isNew ? null : h("button", { type: "button", class: "btn btn-danger-outline", on: { click: () => void remove() }, text: "Delete…" }),
      h("span", { class: "spacer" }),
      saveButton));

  let flagNow = null;
  try { flagNow = JSON.parse(original); } catch { /* template is valid JSON */ }
  mount(slot, header, editor, isNew ? null : explainPanel(ctx, /** @type {string} */ (key)));
  drawHeader(isNew ? null : flagNow);
  updateStatus();
}

/** Explain: evaluate the flag for a context on the server and show why. */
function explainPanel(ctx, key) {
  const result = h("div", { class: "explain-result", "aria-live": "polite" });
  const input = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "explain-context", class: "code", rows: "4", spellcheck: "false" }));
  input.value = view.contexts[key] ?? pretty({ targetingKey: "user-123", email: "ada@example.com" });
  input.addEventListener("input", () => { view.contexts[key] = input.value; });

  async function run() {
    let context;
    try { context = JSON.parse(input.value); } catch (e) {
      return mount(result, errorBox({ code: "INVALID_CONTEXT", message: `Context is not JSON: ${e instanceof Error ? e.message : e}` }));
    }
    if (!context || typeof context !== "object" || Array.isArray(context)) {
      return mount(result, errorBox({ code: "INVALID_CONTEXT", message: "The context must be a JSON object." }));
    }
    try {
      const { data } = await api.explain(ctx.env, key, context);
      mount(result, explainResult(data?.result ?? data));
    } catch (err) {
      ctx.handle(err, result);
    }
  }

  return h("section", { class: "detail-section", "aria-labelledby": "explain-title" },
    h("div", { class: "section-head" },
      h("h3", { id: "explain-title", text: "Explain" }),
      h("span", { class: "muted small", text: "Evaluate this flag for a context, with the step that decided." })),
    h("label", { for: "explain-context", text: "Evaluation context (JSON)" }),
    input,
    h("div", { class: "actions" }, h("span", { class: "spacer" }), h("button", { type: "button", class: "btn", id: "explain-run", on: { click: () => void run() }, text: "Explain" })),
    result);
}

function explainResult(r) {
  if (!r || typeof r !== "object") return errorBox({ code: "UNEXPECTED", message: "The server answered without a result." });
  const ex = r.explanation ?? {};
  const rows = [
    ["Value", r.value === undefined ? h("span", { class: "muted", text: "none — the client uses its code default" }) : h("code", { text: JSON.stringify(r.value) })],
    ["Variant", r.variant ? h("code", { text: r.variant }) : h("span", { class: "muted", text: "—" })],
    ["Reason", h("span", { class: `reason reason-${String(r.reason).toLowerCase()}`, text: r.reason ?? "?" })],
    r.errorCode ? ["Error", h("span", { text: `${r.errorCode}${r.errorMessage ? `: ${r.errorMessage}` : ""}` })] : null,
    ex.step ? ["Decided by", h("span", { text: describeStep(ex) })] : null,
    ex.bucket ? ["Bucket", h("span", { text: `${ex.bucket.value} of ${ex.bucket.total} (by ${ex.bucket.by})` })] : null,
    ex.prerequisite ? ["Prerequisite", h("span", { text: `${ex.prerequisite.flag} expected ${ex.prerequisite.expected}, got ${ex.prerequisite.got ?? "nothing"}` })] : null,
    ex.detail ? ["Detail", h("span", { text: ex.detail })] : null,
  ].filter(Boolean);
  return h("div", {},
    h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)])),
    h("details", {}, h("summary", { text: "Raw result" }), h("pre", { class: "code small", text: pretty(r) })));
}

function describeStep(ex) {
  switch (ex.step) {
    case "rule": return `rule ${ex.ruleIndex !== undefined ? `#${ex.ruleIndex + 1}` : ""}${ex.ruleId ? ` (${ex.ruleId})` : ""}${ex.segment ? `, segment ${ex.segment}` : ""}`.trim();
    case "target": return "individual target";
    case "fallthrough": return "fallthrough (no target or rule matched)";
    case "targeting": return "JSON Logic targeting";
    case "disabled": return "flag is off";
    case "prerequisite": return "a prerequisite was not met";
    case "default": return "default variant";
    default: return String(ex.step);
  }
}
