// @ts-check
// A type-ahead picker for one key out of thousands (a prerequisite's flag, a condition's
// segment): a text input with the ARIA combobox pattern and a listbox of the first MAX_SHOWN
// matches, drawn only while it is open. A <select> of 2,000 options costs a second to draw and
// is no way to find one flag among them.
import { h } from "../dom.js";

/** Matches listed at once; typing narrows them. */
export const MAX_SHOWN = 20;

/**
 * @param {string} id the input's id (a <label for> names it)
 * @param {() => Iterable<string>} options the keys to pick from, read when the list opens
 * @param {string} value the current key
 * @param {(value: string) => void} onChange called with a key among the options only
 * @param {{ placeholder?: string, noun?: string }} [opts]
 * @returns {HTMLElement} the wrapper (the input inside carries `id`)
 */
export function typeahead(id, options, value, onChange, opts = {}) {
  const listId = `${id}-list`;
  const noun = opts.noun ?? "key";
  const input = /** @type {HTMLInputElement} */ (
    h("input", {
      type: "text",
      id,
      value,
      autocomplete: "off",
      spellcheck: "false",
      class: "fe-picker-input",
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": listId,
      placeholder: opts.placeholder ?? `type to search ${noun}s`,
    })
  );
  const list = h("ul", {
    id: listId,
    role: "listbox",
    class: "fe-picker-list",
    hidden: true,
    "aria-label": "Suggestions",
  });
  const wrap = h("span", { class: "fe-picker" }, input, list);
  let committed = value;
  /** @type {string[]} */
  let matches = [];
  let active = -1;

  function optionId(/** @type {number} */ i) {
    return `${id}-opt-${i}`;
  }

  function open() {
    const q = input.value.trim().toLowerCase();
    matches = [];
    let total = 0;
    for (const key of options()) {
      if (q && !key.toLowerCase().includes(q)) continue;
      total++;
      if (matches.length < MAX_SHOWN) matches.push(key);
    }
    active = matches.length ? 0 : -1;
    list.replaceChildren(
      ...matches.map((key, i) =>
        h("li", {
          id: optionId(i),
          role: "option",
          class: "fe-picker-option",
          "aria-selected": String(i === active),
          text: key,
          // mousedown, not click: it comes before the input's blur, which would close the list.
          on: {
            mousedown: (/** @type {MouseEvent} */ ev) => {
              ev.preventDefault();
              pick(key);
            },
          },
        }),
      ),
    );
    if (total > matches.length)
      list.appendChild(
        h("li", {
          class: "muted small fe-picker-more",
          role: "presentation",
          text: `${total - matches.length} more: type to narrow`,
        }),
      );
    if (total === 0)
      list.appendChild(
        h("li", {
          class: "muted small fe-picker-more",
          role: "presentation",
          text: `No ${noun} matches “${input.value}”.`,
        }),
      );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    markActive();
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function markActive() {
    list.querySelectorAll('[role="option"]').forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) input.setAttribute("aria-activedescendant", optionId(active));
    else input.removeAttribute("aria-activedescendant");
  }

  /** @param {string} key */
  function pick(key) {
    input.value = key;
    input.removeAttribute("aria-invalid");
    close();
    if (key !== committed) {
      committed = key;
      onChange(key);
    }
  }

  // Opens on typing, a click or an arrow key; not on focus alone, which a redrawn section restores.
  input.addEventListener("click", () => {
    if (list.hidden) open();
  });
  input.addEventListener("input", open);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (list.hidden) return open();
      if (matches.length) active = (active + (ev.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      markActive();
    } else if (ev.key === "Enter") {
      if (list.hidden || active < 0) return;
      ev.preventDefault();
      pick(matches[active]);
    } else if (ev.key === "Escape" && !list.hidden) {
      ev.preventDefault();
      input.value = committed;
      close();
    }
  });
  // Leaving the field: an exact key is taken, anything else goes back to the last key picked.
  input.addEventListener("blur", () => {
    const typed = input.value.trim();
    let known = false;
    if (typed !== committed)
      for (const key of options())
        if (key === typed) {
          known = true;
          break;
        }
    if (known) pick(typed);
    else {
      input.value = committed;
      close();
    }
  });
  return wrap;
}
