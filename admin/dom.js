// @ts-check
// Tiny DOM helpers. Every piece of text goes in through text nodes or attributes, never innerHTML,
// so flag keys, descriptions and error messages from the API cannot inject markup.

/**
 * Builds an element. `attrs` keys: `class`, `text`, `on` ({event: handler}), `dataset`,
 * boolean properties (`disabled`, `checked`, `hidden`, ...) and any other attribute.
 * Children: nodes, strings (as text), or null/false (skipped); arrays are flattened.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = String(value);
    else if (name === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value") /** @type {HTMLInputElement} */ (el).value = String(value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {any[]} children */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `el`. @param {Element} el @param {...any} children */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** @param {string} id */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** Local, readable time for an ISO string; the ISO form stays in the title. @param {string | null | undefined} iso */
export function timeEl(iso) {
  if (!iso) return h("span", { class: "muted", text: "—" });
  const d = new Date(iso);
  const label = Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  return h("time", { datetime: iso, title: iso, text: label });
}

/**
 * An inline error box from an ApiError (or any Error): code, message and each issue's path.
 * @param {any} err
 */
export function errorBox(err) {
  const issues = Array.isArray(err?.issues) ? err.issues : [];
  return h(
    "div",
    { class: "alert alert-error", role: "alert" },
    h("strong", { text: err?.code ? `${err.code}: ` : "Error: " }),
    h("span", { text: err?.message ?? String(err) }),
    issues.length > 0 &&
      h(
        "ul",
        { class: "issues" },
        issues.map((/** @type {any} */ i) =>
          h(
            "li",
            {},
            i.path ? h("code", { text: i.path }) : null,
            i.path ? " — " : null,
            String(i.message ?? JSON.stringify(i)),
          ),
        ),
      ),
  );
}

/** A green or neutral one-line notice. @param {string} text @param {"ok" | "warn"} [kind] */
export function notice(text, kind = "ok") {
  return h("div", { class: `alert alert-${kind}`, role: "status", text });
}

/**
 * Asks a yes/no question in a modal <dialog>. Resolves true on confirm.
 * @param {{title: string, body: string | Node, confirm: string, danger?: boolean}} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ (
      h(
        "dialog",
        { class: "modal", "aria-labelledby": "confirm-title" },
        h(
          "form",
          { method: "dialog" },
          h("h2", { id: "confirm-title", text: title }),
          typeof body === "string" ? h("p", { text: body }) : body,
          h(
            "div",
            { class: "actions" },
            h("button", { type: "submit", value: "cancel", class: "btn", text: "Cancel" }),
            h("button", {
              type: "submit",
              value: "ok",
              class: danger ? "btn btn-danger" : "btn btn-primary",
              text: confirm,
            }),
          ),
        ),
      )
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** Pretty JSON for editors and raw views. @param {unknown} value */
export const pretty = (value) => JSON.stringify(value, null, 2);
