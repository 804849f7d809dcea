// Flags tab: searchable list with on/off switches, and a detail pane with the JSON editor
// (saved with If-Match so a concurrent change answers 412 instead of being overwritten) and
// the Explain panel.
import { api } from "./api.js";
import { confirmDialog, errorBox, h, mount, pretty } from "./dom.js";
import { flagReleases } from "./releases-flag.js";
import { resourceEditor } from "./resource-editor.js";
import { flagKinds } from "./editor/kinds.js";
import { visualEditor } from "./editor/visual.js";

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
  /** Segment keys for the editor's pickers, loaded once per environment (and on Refresh). @type {Promise<string[]> | null} */
  segments: null,
};

/** @param {HTMLElement} panel @param {any} ctx */
export async function renderFlags(panel, ctx) {
  if (view.env !== ctx.env) Object.assign(view, { env: ctx.env, flags: [], query: "", selected: null, dirty: false, segments: null });
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
    h("div", { class: "split flags-split" }, listSlot, detailSlot));

  async function load() {
    view.segments = null;
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
    markSelected();
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

  /** Moves the selection highlight without rebuilding the list (2,000 rows take a while to draw). */
  function markSelected() {
    panel.querySelector(".split")?.classList.toggle("with-detail", view.selected !== null);
    for (const tr of listSlot.querySelectorAll("tbody tr[data-key]")) {
      const on = /** @type {HTMLElement} */ (tr).dataset.key === view.selected;
      tr.classList.toggle("selected", on);
      const button = tr.querySelector(".flag-key");
      if (on) button?.setAttribute("aria-current", "true");
      else button?.removeAttribute("aria-current");
    }
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
            const { status, data } = await api.toggle(ctx.env, flag.key, !on);
            // 202: held as a change request (app.js shows it); the flag has not changed.
            if (status === 202) return void button.removeAttribute("disabled");
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
    resourceEditor(detailSlot, ctx, view.selected === NEW ? null : view.selected, {
      close: () => void select(null),
      saved: async (key) => { view.dirty = false; view.selected = key; await load(); drawDetail(); void ctx.changed(); },
      deleted: async () => { view.dirty = false; view.selected = null; await load(); drawDetail(); void ctx.changed(); },
    }, FLAG_EDITOR(ctx));
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

/** How the shared editor edits flags; Explain sits below it. */
const FLAG_EDITOR = (ctx) => ({
  noun: "flag",
  id: "flag-json",
  label: "Definition (native JSON)",
  rows: 12,
  titleNew: "New flag",
  template: TEMPLATE,
  get: async (key) => { const got = await api.flag(ctx.env, key); return { version: got.version, item: got.flag }; },
  put: (key, body, ifMatch) => api.putFlag(ctx.env, key, body, ifMatch),
  remove: (key, version) => api.deleteFlag(ctx.env, key, version),
  exists: (key) => view.flags.some((f) => f.key === key),
  setDirty: (dirty) => { view.dirty = dirty; },
  badges: (flag) => [
    h("span", { class: `type type-${flag.type}`, text: flag.type }),
    flag.enabled === false ? h("span", { class: "badge badge-off", text: "off" }) : null,
    flag.clientVisible ? h("span", { class: "badge badge-client", text: "client" }) : null,
  ],
  deleteWarning: (key) => `Evaluations of “${key}” will answer FLAG_NOT_FOUND in ${ctx.env}. A rollback from History can restore it.`,
  extra: (key, draft) => h("div", {}, explainPanel(ctx, key, draft), key ? flagReleases(ctx, key) : null),
  visual: async (flag, onChange) => {
    view.segments ??= api.segments(ctx.env).then((list) => list.map((s) => String(s.key)), () => []);
    const [segments, kinds] = await Promise.all([view.segments, flagKinds()]);
    const flags = view.flags.map((f) => ({ key: String(f.key), variants: Object.keys(f.variants ?? {}) }));
    return visualEditor(flag, { flags, segments, kinds, isNew: !view.flags.some((f) => f.key === flag.key) }, onChange);
  },
});

/** At most this many contexts per preview: each is one explain call. */
const MAX_PREVIEW_CONTEXTS = 50;

/**
 * Explain / who gets what: evaluates the editor's unsaved draft on the server for a pasted context
 * (or a JSON array of contexts, shown as a table) and shows the step that decided.
 * @param {any} ctx @param {string | null} key null for a new flag @param {() => any} draft
 */
function explainPanel(ctx, key, draft) {
  const result = h("div", { class: "explain-result", "aria-live": "polite" });
  const slot = key ?? "";
  const input = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "explain-context", class: "code", rows: "4", spellcheck: "false", "aria-describedby": "explain-hint" }));
  input.value = view.contexts[slot] ?? pretty({ targetingKey: "user-123", email: "ada@example.com" });
  input.addEventListener("input", () => { view.contexts[slot] = input.value; });

  async function run() {
    let parsed;
    try { parsed = JSON.parse(input.value); } catch (e) {
      return mount(result, errorBox({ code: "INVALID_CONTEXT", message: `Context is not JSON: ${e instanceof Error ? e.message : e}` }));
    }
    const contexts = Array.isArray(parsed) ? parsed : [parsed];
    if (contexts.length === 0 || contexts.length > MAX_PREVIEW_CONTEXTS || !contexts.every((c) => c && typeof c === "object" && !Array.isArray(c))) {
      return mount(result, errorBox({ code: "INVALID_CONTEXT", message: `The context must be a JSON object, or an array of 1 to ${MAX_PREVIEW_CONTEXTS} objects.` }));
    }
    const d = draft();
    if (!d.ok) return mount(result, errorBox({ code: "INVALID_DEFINITION", message: `Fix the definition first: ${d.message}` }));
    const flagKey = typeof d.value?.key === "string" ? d.value.key : key;
    try {
      const answers = await Promise.all(contexts.map((c) => api.explain(ctx.env, flagKey, c, d.value).then(({ data }) => data?.result ?? data)));
      mount(result, Array.isArray(parsed) ? whoGetsWhat(contexts, answers) : explainResult(answers[0]));
    } catch (err) {
      ctx.handle(err, result);
    }
  }

  return h("section", { class: "detail-section", "aria-labelledby": "explain-title" },
    h("div", { class: "section-head" },
      h("h3", { id: "explain-title", text: "Explain · who gets what" }),
      h("span", { class: "muted small", text: "Evaluates the definition above, saved or not." })),
    h("label", { for: "explain-context", text: "Evaluation context (JSON)" }),
    input,
    h("p", { class: "hint", id: "explain-hint", text: "One context object, or an array of them for a table of who gets what." }),
    h("div", { class: "actions" }, h("span", { class: "spacer" }), h("button", { type: "button", class: "btn", id: "explain-run", on: { click: () => void run() }, text: "Explain" })),
    result);
}

/** One row per context: what it gets and why. @param {any[]} contexts @param {any[]} answers */
function whoGetsWhat(contexts, answers) {
  return h("table", { class: "table who-table" },
    h("caption", { class: "sr-only", text: "Who gets what" }),
    h("thead", {}, h("tr", {}, ["Context", "Variant", "Value", "Decided by"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, contexts.map((c, i) => {
      const r = answers[i] ?? {};
      const who = typeof c.targetingKey === "string" ? c.targetingKey : JSON.stringify(c);
      return h("tr", {},
        h("td", { class: "code small", title: JSON.stringify(c), text: who.length > 40 ? `${who.slice(0, 39)}…` : who }),
        h("td", {}, r.variant ? h("code", { text: r.variant }) : h("span", { class: "muted", text: "—" })),
        h("td", { class: "code small", text: r.value === undefined ? "" : JSON.stringify(r.value) }),
        h("td", { class: "small" }, h("span", { class: `reason reason-${String(r.reason).toLowerCase()}`, text: r.reason ?? "?" }), " ", r.explanation?.step ? describeStep(r.explanation) : ""));
    })));
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
