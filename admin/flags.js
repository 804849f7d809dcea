// @ts-check
// Flags tab: the shared list/detail page (resource-page.js) over flag summaries, with on/off
// switches in the rows, and a detail pane with the visual or JSON editor (saved with If-Match so
// a concurrent change answers 412 instead of being overwritten), Explain, and the flag's releases.
import { api } from "./api.js";
import { errorBox, h, mount, pretty } from "./dom.js";
import { flagReleases } from "./releases-flag.js";
import { resourcePage } from "./resource-page.js";
import { stores } from "./store.js";
import { FLAG_KINDS } from "./editor/kinds.js";
import { visualEditor } from "./editor/visual.js";
import { lifecycleBadges } from "./insights.js";

/** @typedef {import("./api.js").FlagSummary} FlagSummary */

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

/** Explain contexts typed per flag (by key; "" for a new flag), kept while the page lives. @type {Record<string, string>} */
const contexts = {};

export const renderFlags = resourcePage({
  noun: "flag",
  plural: "flags",
  tableClass: "flags-table",
  splitClass: "split flags-split",
  detailClass: "flag-detail",
  store: stores.flags,
  searchPlaceholder: "Search key, description or tag",
  searchText: (f) => [f.key, f.description ?? "", ...(f.tags ?? [])].join(" ").toLowerCase(),
  emptyText: [
    h("p", { text: "No flags in this environment yet." }),
    h("p", { class: "muted", text: "Create one with “New flag”, or import a flagd file under Import / export." }),
  ],
  columns: [
    { text: "Type" },
    { text: "Status" },
    { text: "Default" },
    { text: "Targeting", class: "col-opt" },
    { text: "Tags" },
    { text: "Version", class: "num" },
  ],
  keyCell: (flag) => [
    flag.clientVisible
      ? h("span", { class: "badge badge-client", title: "Visible to client-side SDK keys", text: "client" })
      : null,
    ...(lifecycleBadges(flag) ?? []),
    flag.description ? h("div", { class: "muted desc", title: flag.description, text: flag.description }) : null,
  ],
  cells: (flag, page) => [
    h("td", {}, h("span", { class: `type type-${flag.type}`, text: flag.type })),
    h("td", {}, toggleSwitch(flag, page)),
    h("td", {}, defaultCell(flag)),
    h("td", { class: "col-opt muted" }, targetingSummary(flag)),
    h(
      "td",
      { class: "tags" },
      (flag.tags ?? []).map((t) => h("span", { class: "tag", text: t })),
    ),
    h("td", { class: "num muted", text: flag.version }),
  ],
  editor: (ctx, page) => FLAG_EDITOR(ctx, page),
});

/**
 * The on/off switch of a row: one call, then that row alone is redrawn from the answer.
 * @param {FlagSummary} flag @param {import("./resource-page.js").PageApi} page
 */
function toggleSwitch(flag, page) {
  const on = flag.enabled;
  const button = h(
    "button",
    {
      type: "button",
      role: "switch",
      class: "switch",
      "aria-checked": String(on),
      "aria-label": `${flag.key} enabled`,
      title: on ? "On: serving targeting" : "Off: answers DISABLED, clients use code defaults",
      on: {
        click: async () => {
          const ctx = page.ctx();
          button.setAttribute("disabled", "");
          try {
            const env = ctx.env;
            const { status, data } = await api.toggle(env, flag.key, !on);
            // 202: held as a change request (app.js shows it); the flag has not changed.
            if (status === 202) return void button.removeAttribute("disabled");
            page.clearError();
            // The answer is the updated flag: only `enabled` and the version changed.
            const current = stores.flags.items.get(flag.key) ?? flag;
            stores.flags.upsert(env, { ...current, enabled: data.enabled, version: data.version }, data.version);
            ctx.changed(data.version, stores.flags);
            // Reload an open editor unless it holds edits (its Save then answers 412, clearly).
            page.reopen(flag.key);
          } catch (err) {
            button.removeAttribute("disabled");
            page.fail(err);
          }
        },
      },
    },
    h("span", { class: "switch-knob", "aria-hidden": "true" }),
  );
  return h(
    "span",
    { class: "switch-wrap" },
    button,
    h("span", { class: on ? "state-on" : "state-off", "aria-hidden": "true", text: on ? "On" : "Off" }),
  );
}

/** @param {FlagSummary} flag */
function defaultCell(flag) {
  if (flag.defaultVariant === null)
    return h("span", { class: "muted", title: "No default variant: clients use their code default", text: "—" });
  return h(
    "span",
    { class: "default" },
    h("code", { text: flag.defaultVariant }),
    flag.defaultValue
      ? h("span", {
          class: "muted value",
          title: flag.defaultValue,
          text: ` ${flag.defaultValue.length > 24 ? flag.defaultValue.slice(0, 23) + "…" : flag.defaultValue}`,
        })
      : null,
  );
}

/** @param {FlagSummary} flag */
function targetingSummary(flag) {
  const t = flag.targeting;
  if (t.logic) return "JSON Logic";
  const parts = [];
  if (t.targets) parts.push(`${t.targets} target${t.targets === 1 ? "" : "s"}`);
  if (t.rules) parts.push(`${t.rules} rule${t.rules === 1 ? "" : "s"}`);
  if (t.rollout) parts.push("rollout");
  if (t.prerequisites) parts.push("prereqs");
  return parts.length ? parts.join(" · ") : "static";
}

/** Segment keys for the editor's segment pickers, from the segments store (loaded once per version). @param {any} ctx */
async function segmentKeys(ctx) {
  try {
    return [...(await stores.segments.ensure(ctx.env, ctx.version)).keys()];
  } catch {
    return [];
  }
}

/**
 * How the shared editor edits flags; Explain and the flag's releases sit below it.
 * @param {any} ctx @param {import("./resource-page.js").PageApi} page
 * @returns {import("./resource-editor.js").EditorSpec}
 */
const FLAG_EDITOR = (ctx, page) => ({
  noun: "flag",
  id: "flag-json",
  label: "Definition (native JSON)",
  rows: 12,
  titleNew: "New flag",
  template: TEMPLATE,
  get: async (key) => {
    const item = await api.flag(ctx.env, key);
    return { version: item.version, item };
  },
  put: (key, body, ifMatch) => api.putFlag(ctx.env, key, body, ifMatch),
  remove: (key, version) => api.deleteFlag(ctx.env, key, version),
  exists: (key) => stores.flags.items.has(key),
  setDirty: page.setDirty,
  badges: (flag) => [
    h("span", { class: `type type-${flag.type}`, text: flag.type }),
    flag.enabled === false ? h("span", { class: "badge badge-off", text: "off" }) : null,
    flag.clientVisible ? h("span", { class: "badge badge-client", text: "client" }) : null,
  ],
  deleteWarning: (key) =>
    `Evaluations of “${key}” will answer FLAG_NOT_FOUND in ${ctx.env}. A rollback from History can restore it.`,
  extra: (key, draft) => h("div", {}, explainPanel(ctx, key, draft), key ? flagReleases(ctx, key) : null),
  visual: async (flag, onChange) => {
    const segments = await segmentKeys(ctx);
    // The other flags for the prerequisite picker: read when it opens, not copied per flag.
    const flags = () => stores.flags.items;
    const nativeRules = (/** @type {Record<string, unknown>} */ draft) => api.nativeRules(ctx.env, draft);
    return visualEditor(
      flag,
      { flags, segments, kinds: FLAG_KINDS, isNew: !stores.flags.items.has(flag.key), nativeRules },
      onChange,
    );
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
  const input = /** @type {HTMLTextAreaElement} */ (
    h("textarea", {
      id: "explain-context",
      class: "code",
      rows: "4",
      spellcheck: "false",
      "aria-describedby": "explain-hint",
    })
  );
  input.value = contexts[slot] ?? pretty({ targetingKey: "user-123", email: "ada@example.com" });
  input.addEventListener("input", () => {
    contexts[slot] = input.value;
  });

  async function run() {
    let parsed;
    try {
      parsed = JSON.parse(input.value);
    } catch (e) {
      return mount(
        result,
        errorBox({ code: "INVALID_CONTEXT", message: `Context is not JSON: ${e instanceof Error ? e.message : e}` }),
      );
    }
    const contexts = Array.isArray(parsed) ? parsed : [parsed];
    if (
      contexts.length === 0 ||
      contexts.length > MAX_PREVIEW_CONTEXTS ||
      !contexts.every((c) => c && typeof c === "object" && !Array.isArray(c))
    ) {
      return mount(
        result,
        errorBox({
          code: "INVALID_CONTEXT",
          message: `The context must be a JSON object, or an array of 1 to ${MAX_PREVIEW_CONTEXTS} objects.`,
        }),
      );
    }
    const d = draft();
    if (!d.ok)
      return mount(result, errorBox({ code: "INVALID_DEFINITION", message: `Fix the definition first: ${d.message}` }));
    const flagKey = typeof d.value?.key === "string" ? d.value.key : key;
    try {
      const answers = await Promise.all(
        contexts.map((c) => api.explain(ctx.env, flagKey, c, d.value).then(({ data }) => data?.result ?? data)),
      );
      mount(result, Array.isArray(parsed) ? whoGetsWhat(contexts, answers) : explainResult(answers[0]));
    } catch (err) {
      ctx.handle(err, result);
    }
  }

  return h(
    "section",
    { class: "detail-section", "aria-labelledby": "explain-title" },
    h(
      "div",
      { class: "section-head" },
      h("h3", { id: "explain-title", text: "Explain · who gets what" }),
      h("span", { class: "muted small", text: "Evaluates the definition above, saved or not." }),
    ),
    h("label", { for: "explain-context", text: "Evaluation context (JSON)" }),
    input,
    h("p", {
      class: "hint",
      id: "explain-hint",
      text: "One context object, or an array of them for a table of who gets what.",
    }),
    h(
      "div",
      { class: "actions" },
      h("span", { class: "spacer" }),
      h("button", {
        type: "button",
        class: "btn",
        id: "explain-run",
        on: { click: () => void run() },
        text: "Explain",
      }),
    ),
    result,
  );
}

/** One row per context: what it gets and why. @param {any[]} contexts @param {any[]} answers */
function whoGetsWhat(contexts, answers) {
  return h(
    "table",
    { class: "table who-table" },
    h("caption", { class: "sr-only", text: "Who gets what" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Context", "Variant", "Value", "Decided by"].map((t) => h("th", { scope: "col", text: t })),
      ),
    ),
    h(
      "tbody",
      {},
      contexts.map((c, i) => {
        const r = answers[i] ?? {};
        const who = typeof c.targetingKey === "string" ? c.targetingKey : JSON.stringify(c);
        return h(
          "tr",
          {},
          h("td", {
            class: "code small",
            title: JSON.stringify(c),
            text: who.length > 40 ? `${who.slice(0, 39)}…` : who,
          }),
          h("td", {}, r.variant ? h("code", { text: r.variant }) : h("span", { class: "muted", text: "—" })),
          h("td", { class: "code small", text: r.value === undefined ? "" : JSON.stringify(r.value) }),
          h(
            "td",
            { class: "small" },
            h("span", { class: `reason reason-${String(r.reason).toLowerCase()}`, text: r.reason ?? "?" }),
            " ",
            r.explanation?.step ? describeStep(r.explanation) : "",
          ),
        );
      }),
    ),
  );
}

/** @param {any} r */
function explainResult(r) {
  if (!r || typeof r !== "object")
    return errorBox({ code: "UNEXPECTED", message: "The server answered without a result." });
  const ex = r.explanation ?? {};
  const rows = /** @type {[string, HTMLElement][]} */ (
    [
      [
        "Value",
        r.value === undefined
          ? h("span", { class: "muted", text: "none — the client uses its code default" })
          : h("code", { text: JSON.stringify(r.value) }),
      ],
      ["Variant", r.variant ? h("code", { text: r.variant }) : h("span", { class: "muted", text: "—" })],
      ["Reason", h("span", { class: `reason reason-${String(r.reason).toLowerCase()}`, text: r.reason ?? "?" })],
      r.errorCode
        ? ["Error", h("span", { text: `${r.errorCode}${r.errorMessage ? `: ${r.errorMessage}` : ""}` })]
        : null,
      ex.step ? ["Decided by", h("span", { text: describeStep(ex) })] : null,
      ex.bucket
        ? ["Bucket", h("span", { text: `${ex.bucket.value} of ${ex.bucket.total} (by ${ex.bucket.by})` })]
        : null,
      ex.prerequisite
        ? [
            "Prerequisite",
            h("span", {
              text: `${ex.prerequisite.flag} expected ${ex.prerequisite.expected}, got ${ex.prerequisite.got ?? "nothing"}`,
            }),
          ]
        : null,
      ex.detail ? ["Detail", h("span", { text: ex.detail })] : null,
    ].filter(Boolean)
  );
  return h(
    "div",
    {},
    h(
      "dl",
      { class: "kv" },
      rows.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]),
    ),
    h("details", {}, h("summary", { text: "Raw result" }), h("pre", { class: "code small", text: pretty(r) })),
  );
}

/** @param {any} ex */
function describeStep(ex) {
  switch (ex.step) {
    case "rule":
      return `rule ${ex.ruleIndex !== undefined ? `#${ex.ruleIndex + 1}` : ""}${ex.ruleId ? ` (${ex.ruleId})` : ""}${ex.segment ? `, segment ${ex.segment}` : ""}`.trim();
    case "target":
      return "individual target";
    case "fallthrough":
      return "fallthrough (no target or rule matched)";
    case "targeting":
      return "JSON Logic targeting";
    case "disabled":
      return "flag is off";
    case "prerequisite":
      return "a prerequisite was not met";
    case "default":
      return "default variant";
    default:
      return String(ex.step);
  }
}
