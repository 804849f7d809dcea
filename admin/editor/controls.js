// @ts-check
// Small labelled form controls of the visual editor. Every control gets an id from its place in the
// flag (`fe-rules-0-when-op`), which ties its <label for> to it and lets a redrawn section put the
// focus back where it was (keyboard users keep their place when a rule is added or moved).
import { h } from "../dom.js";

/** @param {string} path e.g. "rules.0.when" → "fe-rules-0-when" */
export const idFor = (path) => `fe-${path.replace(/[^A-Za-z0-9_-]+/g, "-")}`;

/**
 * A label above a control.
 * @param {string} id @param {string} text @param {HTMLElement} control @param {string} [hint]
 */
export function field(id, text, control, hint) {
  control.id = id;
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return h(
    "div",
    { class: "fe-field" },
    h("label", { for: id, text }),
    control,
    hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
  );
}

/**
 * @param {string} id @param {string} value
 * @param {(value: string) => void} onInput
 * @param {Record<string, any>} [attrs]
 * @returns {HTMLInputElement}
 */
export function textInput(id, value, onInput, attrs = {}) {
  const el = /** @type {HTMLInputElement} */ (
    h("input", { type: "text", id, value, autocomplete: "off", spellcheck: "false", ...attrs })
  );
  el.addEventListener("input", () => onInput(el.value));
  return el;
}

/**
 * @param {string} id
 * @param {{ value: string, label: string }[]} options
 * @param {string} value
 * @param {(value: string) => void} onChange
 * @param {Record<string, any>} [attrs]
 * @returns {HTMLSelectElement}
 */
export function select(id, options, value, onChange, attrs = {}) {
  const el = /** @type {HTMLSelectElement} */ (
    h(
      "select",
      { id, ...attrs },
      options.map((o) => h("option", { value: o.value, selected: o.value === value, text: o.label })),
    )
  );
  // A value that is not among the options (e.g. a variant since removed) stays visible and selected.
  if (!options.some((o) => o.value === value))
    el.prepend(h("option", { value, selected: true, text: `${value || "—"} (missing)` }));
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

/**
 * A checkbox with its label after it.
 * @param {string} id @param {string} text @param {boolean} checked @param {(checked: boolean) => void} onChange
 */
export function checkbox(id, text, checked, onChange) {
  const el = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id, checked }));
  el.addEventListener("change", () => onChange(el.checked));
  return h("div", { class: "fe-check" }, el, h("label", { for: id, text }));
}

/**
 * A small button; `label` is its accessible name when the visible text is a symbol.
 * @param {string} text @param {() => void} onClick @param {{ id?: string, label?: string, cls?: string, disabled?: boolean }} [opts]
 */
export function button(text, onClick, opts = {}) {
  return h("button", {
    id: opts.id ?? null,
    type: "button",
    class: `btn btn-small ${opts.cls ?? ""}`,
    "aria-label": opts.label ?? null,
    title: opts.label ?? null,
    disabled: opts.disabled ?? false,
    on: { click: onClick },
    text,
  });
}

/**
 * A part of the form that redraws itself: `redraw()` rebuilds its content from the model and
 * restores the focus to the control with the same id, if it is still there.
 * @param {string} cls
 * @param {() => any} render
 */
export function section(cls, render) {
  const el = h("div", { class: cls });
  const redraw = () => {
    const active = document.activeElement;
    const focusId = active && el.contains(active) ? active.id : "";
    el.replaceChildren(...[render()].flat(Infinity).filter(Boolean));
    if (focusId) /** @type {HTMLElement | null} */ (document.getElementById(focusId))?.focus();
  };
  redraw();
  return { el, redraw };
}
