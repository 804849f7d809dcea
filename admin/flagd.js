// @ts-check
// Import / export tab: replace the environment's flags from a flagd file (one atomic version),
// and download the environment as a flagd document.
import { api } from "./api.js";
import { confirmDialog, errorBox, h, mount, notice, pretty } from "./dom.js";

/** @param {HTMLElement} panel @param {any} ctx */
export function renderFlagd(panel, ctx) {
  const importMessages = h("div", { "aria-live": "polite" });
  const exportMessages = h("div", { "aria-live": "polite" });
  const file = /** @type {HTMLInputElement} */ (
    h("input", { type: "file", id: "flagd-file", accept: ".json,application/json" })
  );

  async function doImport() {
    const chosen = file.files?.[0];
    if (!chosen)
      return mount(importMessages, errorBox({ code: "NO_FILE", message: "Choose a flagd JSON file first." }));
    const text = await chosen.text();
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return mount(
        importMessages,
        errorBox({ code: "PARSE_ERROR", message: `${chosen.name} is not JSON: ${e instanceof Error ? e.message : e}` }),
      );
    }
    const count = doc && typeof doc.flags === "object" && doc.flags ? Object.keys(doc.flags).length : 0;
    const ok = await confirmDialog({
      title: `Replace all flags in ${ctx.env}?`,
      body: `${chosen.name} defines ${count} flag${count === 1 ? "" : "s"}. Every current flag and segment of ${ctx.env} is replaced in one change (one new version, undoable from History).`,
      confirm: "Import and replace",
      danger: true,
    });
    if (!ok) return;
    try {
      const { data } = await api.importFlagd(ctx.env, text);
      mount(
        importMessages,
        h(
          "div",
          { class: "alert alert-ok", role: "status" },
          h("span", {
            text: `Imported ${count} flag${count === 1 ? "" : "s"} from ${chosen.name}; ${ctx.env} is now at v${data?.version ?? "?"}. `,
          }),
          h("button", {
            type: "button",
            class: "btn btn-small",
            on: { click: () => ctx.go("flags") },
            text: "View flags",
          }),
        ),
      );
      void ctx.changed(data?.version);
    } catch (err) {
      ctx.handle(err, importMessages);
    }
  }

  async function doExport() {
    try {
      const { data } = await api.exportFlagd(ctx.env);
      const text = typeof data === "string" ? data : pretty(data);
      const url = URL.createObjectURL(new Blob([text + "\n"], { type: "application/json" }));
      const name = `${ctx.env}.flagd.json`;
      const link = h("a", { href: url, download: name, class: "btn btn-small", text: `Save ${name}` });
      const warnings = Array.isArray(data?.warnings) ? data.warnings : [];
      mount(
        exportMessages,
        notice(`Exported ${data?.flags ? Object.keys(data.flags).length : 0} flags.`),
        warnings.length
          ? h(
              "div",
              { class: "alert alert-warn" },
              h("strong", { text: "flagd cannot express everything: " }),
              h(
                "ul",
                {},
                warnings.map((/** @type {any} */ w) =>
                  h("li", { text: typeof w === "string" ? w : (w?.message ?? JSON.stringify(w)) }),
                ),
              ),
            )
          : null,
        h("div", { class: "actions-inline" }, link),
        h("details", {}, h("summary", { text: "Preview" }), h("pre", { class: "code small preview", text })),
      );
      link.click();
    } catch (err) {
      ctx.handle(err, exportMessages);
    }
  }

  mount(
    panel,
    h(
      "div",
      { class: "cards" },
      h(
        "section",
        { class: "card", "aria-labelledby": "import-title" },
        h("h2", { id: "import-title", text: "Import flagd" }),
        h("p", {
          class: "muted",
          text: "Upload a flagd flag-definition file (flags, $evaluators, metadata). It replaces every flag of this environment atomically; an invalid file changes nothing and each problem is listed.",
        }),
        h("label", { for: "flagd-file", text: "flagd JSON file" }),
        file,
        h(
          "div",
          { class: "actions" },
          h("button", {
            type: "button",
            class: "btn btn-primary",
            id: "flagd-import",
            on: { click: () => void doImport() },
            text: "Import",
          }),
        ),
        importMessages,
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "export-title" },
        h("h2", { id: "export-title", text: "Export flagd" }),
        h("p", {
          class: "muted",
          text: "Download this environment as a flagd document: it re-imports to the same evaluations and works as a flagd file or HTTP sync source.",
        }),
        h(
          "div",
          { class: "actions" },
          h("button", {
            type: "button",
            class: "btn",
            id: "flagd-export",
            on: { click: () => void doExport() },
            text: "Export",
          }),
        ),
        exportMessages,
      ),
    ),
  );
}
