// @ts-check
// What a rule or the fallthrough serves: one variant, or a percentage rollout edited as a bar
// (drag a boundary, or focus it and use the arrow keys) and as one number per variant. Weights
// must add up to 100; "Scale to 100" fixes flagd-style relative weights (1:1 → 50:50).
import { h } from "../dom.js";
import { button, field, section, select, textInput } from "./controls.js";
import { moveBoundary, newRollout, scaleTo100 } from "./model.js";

/** @typedef {import("./model.js").EditorFlag} EditorFlag */
/** @typedef {import("./model.js").Serve} Serve */

/**
 * A variant's colour class (style.css has 8): by its position in the flag, so a variant has the
 * same colour in every bar. Classes, not style attributes: the page's CSP forbids inline styles.
 * @param {EditorFlag} m @param {string} variant
 */
export const colourOf = (m, variant) => {
  const i = m.variants.findIndex((v) => v.key === variant);
  return i < 0 ? "fe-cx" : `fe-c${i % 8}`;
};

/**
 * @param {object} o
 * @param {string} o.id id prefix of the controls
 * @param {string} o.label the select's label, e.g. "Serve"
 * @param {EditorFlag} o.model
 * @param {() => Serve | null} o.get
 * @param {(serve: Serve | null) => void} o.set
 * @param {boolean} o.allowDefault offer "the default variant" (the fallthrough's absence)
 * @param {() => void} o.changed
 */
export function serveEditor(o) {
  const part = section("fe-serve", () => {
    const serve = o.get();
    const choice = serve === null ? "default" : serve.kind === "rollout" ? "rollout" : `variant:${serve.variant}`;
    const options = [
      ...(o.allowDefault ? [{ value: "default", label: "the default variant" }] : []),
      ...o.model.variants.map((v) => ({ value: `variant:${v.key}`, label: `variant ${v.key}` })),
      { value: "rollout", label: "a percentage rollout" },
    ];
    const picker = select(`${o.id}-kind`, options, choice, (value) => {
      if (value === "default") o.set(null);
      else if (value === "rollout") o.set(newRollout(o.model));
      else o.set({ kind: "variant", variant: value.slice("variant:".length) });
      part.redraw();
      o.changed();
    });
    return [
      field(`${o.id}-kind`, o.label, picker),
      serve?.kind === "rollout"
        ? rolloutEditor(
            o.id,
            o.model,
            serve,
            () => {
              part.redraw();
              o.changed();
            },
            o.changed,
          )
        : null,
    ];
  });
  return part.el;
}

/**
 * @param {string} id
 * @param {EditorFlag} m
 * @param {Extract<Serve, { kind: "rollout" }>} serve
 * @param {() => void} structural a variant was added or removed: redraw
 * @param {() => void} changed a weight moved
 */
function rolloutEditor(id, m, serve, structural, changed) {
  const ws = serve.weights;
  const total = () => ws.reduce((n, w) => n + w.weight, 0);
  const segments = ws.map((w) =>
    h("span", { class: `fe-bar-seg ${colourOf(m, w.variant)}` }, h("span", { class: "fe-bar-label" })),
  );
  const handles = ws.slice(0, -1).map((_, i) => {
    const handle = h("span", {
      class: "fe-bar-handle",
      role: "slider",
      tabindex: "0",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-label": `Split between ${ws[i].variant} and ${ws[i + 1].variant}`,
    });
    handle.addEventListener("keydown", (ev) => {
      const step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[ev.key];
      if (step === undefined) return;
      ev.preventDefault();
      move(i, boundary(i) + step);
    });
    handle.addEventListener("pointerdown", (ev) => {
      ev.preventDefault();
      handle.setPointerCapture(ev.pointerId);
      handle.focus();
      const onMove = (/** @type {PointerEvent} */ e) => {
        const rect = bar.getBoundingClientRect();
        move(i, ((e.clientX - rect.left) / rect.width) * scale());
      };
      handle.addEventListener("pointermove", onMove);
      handle.addEventListener("pointerup", () => handle.removeEventListener("pointermove", onMove), { once: true });
    });
    return handle;
  });
  const bar = h("div", { class: "fe-bar", role: "group", "aria-label": "Rollout split" }, segments, handles);
  const inputs = ws.map((w, i) => {
    const input = /** @type {HTMLInputElement} */ (
      h("input", {
        type: "number",
        min: "0",
        max: "100",
        step: "1",
        class: "fe-weight",
        id: `${id}-w${i}`,
        value: String(w.weight),
      })
    );
    input.addEventListener("input", () => {
      const n = Number(input.value);
      w.weight = Number.isInteger(n) && n >= 0 ? n : 0;
      refresh(input);
      changed();
    });
    return input;
  });
  const status = h("span", { class: "fe-total", "aria-live": "polite" });
  const fix = button(
    "Scale to 100",
    () => {
      serve.weights = scaleTo100(ws);
      structural();
    },
    { label: "Scale the weights to add up to 100" },
  );

  /** The bar's width in weight units: 100 when the weights add up, else their total. */
  const scale = () => Math.max(100, total());
  const boundary = (/** @type {number} */ i) => ws.slice(0, i + 1).reduce((n, w) => n + w.weight, 0);
  function move(/** @type {number} */ i, /** @type {number} */ at) {
    const next = moveBoundary(ws, i, at);
    next.forEach((w, j) => {
      ws[j].weight = w.weight;
    });
    refresh();
    changed();
  }
  function refresh(/** @type {HTMLInputElement} */ typing = /** @type {any} */ (null)) {
    const s = scale();
    ws.forEach((w, i) => {
      segments[i].style.width = `${(w.weight / s) * 100}%`;
      /** @type {HTMLElement} */ (segments[i].firstChild).textContent =
        w.weight >= 8 ? `${w.variant} ${w.weight}%` : "";
      segments[i].title = `${w.variant}: ${w.weight}%`;
      if (inputs[i] !== typing) inputs[i].value = String(w.weight);
    });
    handles.forEach((handle, i) => {
      const at = boundary(i);
      handle.style.left = `${(at / s) * 100}%`;
      handle.setAttribute("aria-valuenow", String(at));
      handle.setAttribute(
        "aria-valuetext",
        `${ws[i].variant} ${ws[i].weight}%, ${ws[i + 1].variant} ${ws[i + 1].weight}%`,
      );
    });
    const t = total();
    status.textContent = t === 100 ? "Total 100%" : `Total ${t}%: the weights must add up to 100%`;
    status.classList.toggle("bad", t !== 100);
    fix.hidden = t === 100;
  }

  const rows = ws.map((w, i) =>
    h(
      "div",
      { class: "fe-weight-row" },
      h("span", { class: `fe-swatch ${colourOf(m, w.variant)}`, "aria-hidden": "true" }),
      h("label", { for: `${id}-v${i}`, class: "sr-only", text: `Rollout variant ${i + 1}` }),
      select(
        `${id}-v${i}`,
        m.variants.map((v) => ({ value: v.key, label: v.key })),
        w.variant,
        (value) => {
          w.variant = value;
          structural();
        },
      ),
      h("label", { for: `${id}-w${i}`, class: "sr-only", text: `Weight of ${w.variant} (%)` }),
      inputs[i],
      h("span", { class: "muted", "aria-hidden": "true", text: "%" }),
      button(
        "✕",
        () => {
          ws.splice(i, 1);
          structural();
        },
        { label: `Remove ${w.variant} from the rollout`, disabled: ws.length === 1 },
      ),
    ),
  );
  const unused = m.variants.find((v) => !ws.some((w) => w.variant === v.key));
  const bucketBy = textInput(
    `${id}-bucket`,
    serve.bucketBy ?? "",
    (value) => {
      if (value.trim()) serve.bucketBy = value.trim();
      else delete serve.bucketBy;
      changed();
    },
    { placeholder: "targetingKey" },
  );

  const el = h(
    "div",
    { class: "fe-rollout" },
    bar,
    h("div", { class: "fe-weights" }, rows),
    h(
      "div",
      { class: "fe-row" },
      button(
        "+ Variant",
        () => {
          ws.push({ variant: unused ? unused.key : (m.variants[0]?.key ?? ""), weight: 0 });
          structural();
        },
        { label: "Add a variant to the rollout", disabled: !unused },
      ),
      status,
      fix,
    ),
    field(
      `${id}-bucket`,
      "Bucket by (context attribute)",
      bucketBy,
      "The bucket is a hash of the flag key and this attribute, so a user keeps their bucket: growing the first variant's share only adds users to it.",
    ),
  );
  refresh();
  return el;
}
