// @ts-check
// The visual flag editor: a form over the editor model (./model.js) for everything a native flag
// holds. It never talks to the server; the resource editor around it loads, saves (If-Match) and
// switches to the JSON view, which round-trips through toModel/toJson.
import { h } from "../dom.js";
import { attributeList, conditionEditor } from "./conditions.js";
import { button, checkbox, field, section, select, textInput } from "./controls.js";
import { typeahead } from "./picker.js";
import { applyConversion, convertOffer } from "./convert.js";
import { checkModel, defaultValue, newCondition, renameVariant, toJson, toModel } from "./model.js";
import { colourOf, serveEditor } from "./serve.js";

/** @typedef {import("./model.js").EditorFlag} EditorFlag */

/**
 * What the form needs from the environment.
 * @typedef {object} EditorEnv
 * @property {() => Map<string, { key: string, variants: string[] }>} flags the environment's flags by key (prerequisite picker), read when needed
 * @property {string[]} segments segment keys (segment picker)
 * @property {string[] | null} kinds flag kinds when the model has `kind`, else null (not shown)
 * @property {boolean} isNew the key can still be chosen
 * @property {(draft: Record<string, unknown>) => Promise<import("./convert.js").NativeRulesAnswer>} [nativeRules]
 *   asks the server whether JSON Logic targeting converts to native rules exactly (absent: not offered)
 */

const TYPES = ["boolean", "string", "number", "object"];

/**
 * @param {any} flag native flag JSON
 * @param {EditorEnv} env
 * @param {() => void} onChange called after every edit
 * @returns {{ element: HTMLElement, value: () => Record<string, unknown>, issues: () => import("./model.js").EditorIssue[] }}
 */
export function visualEditor(flag, env, onChange) {
  const m = toModel(flag);
  const changed = () => onChange();
  /** Variant names changed (renamed, added, removed): the pickers that list them redraw. */
  const variantsChanged = () => {
    targeting.redraw();
    prereqs.redraw();
    changed();
  };

  const basics = section("fe-section", () => [
    h("h4", { text: "Flag" }),
    h(
      "div",
      { class: "fe-grid" },
      env.isNew
        ? field(
            "fe-key",
            "Key",
            textInput(
              "fe-key",
              m.key,
              (v) => {
                m.key = v;
                changed();
              },
              { required: true },
            ),
          )
        : null,
      field(
        "fe-type",
        "Type",
        select(
          "fe-type",
          TYPES.map((t) => ({ value: t, label: t })),
          m.type,
          (t) => {
            m.type = t;
            // Values of another type would not validate: each variant starts over with the new type's default.
            for (const v of m.variants) v.value = defaultValue(t);
            variants.redraw();
            changed();
          },
        ),
      ),
      env.kinds && (env.kinds.length || m.kind !== undefined)
        ? field(
            "fe-kind",
            "Kind",
            select(
              "fe-kind",
              [{ value: "", label: "—" }, ...env.kinds.map((k) => ({ value: k, label: k }))],
              m.kind ?? "",
              (k) => {
                m.kind = k || undefined;
                changed();
              },
            ),
          )
        : null,
    ),
    field(
      "fe-description",
      "Description",
      (() => {
        const el = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: "2", maxlength: "2000" }));
        el.value = m.description;
        el.addEventListener("input", () => {
          m.description = el.value;
          changed();
        });
        return el;
      })(),
    ),
    field(
      "fe-tags",
      "Tags",
      textInput(
        "fe-tags",
        m.tags.join(", "),
        (v) => {
          m.tags = v
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean);
          changed();
        },
        { placeholder: "checkout, web" },
      ),
      "Comma-separated.",
    ),
    h(
      "div",
      { class: "fe-row" },
      checkbox("fe-enabled", "On (serve targeting; off answers DISABLED)", m.enabled, (on) => {
        m.enabled = on;
        changed();
      }),
      checkbox("fe-client", "Visible to client-side SDK keys", m.clientVisible, (on) => {
        m.clientVisible = on;
        changed();
      }),
    ),
  ]);

  const variants = section("fe-section", () => [
    h("h4", { text: "Variants" }),
    h(
      "div",
      { class: "fe-variants" },
      m.variants.map((v, i) =>
        h(
          "div",
          { class: "fe-variant-row" },
          h("span", { class: `fe-swatch ${colourOf(m, v.key)}`, "aria-hidden": "true" }),
          h("label", { for: `fe-variant-${i}-name`, class: "sr-only", text: `Variant ${i + 1} name` }),
          renameInput(i),
          h("label", { for: `fe-variant-${i}-value`, class: "sr-only", text: `Value of variant ${v.key || i + 1}` }),
          valueInput(i),
          button(
            "✕",
            () => {
              m.variants.splice(i, 1);
              variants.redraw();
              variantsChanged();
            },
            { label: `Remove variant ${v.key}` },
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "fe-row" },
      button("+ Variant", () => {
        m.variants.push({ key: freeName(), value: defaultValue(m.type) });
        variants.redraw();
        variantsChanged();
        /** @type {HTMLElement | null} */ (
          document.getElementById(`fe-variant-${m.variants.length - 1}-name`)
        )?.focus();
      }),
    ),
    field(
      "fe-default",
      "Default variant",
      select(
        "fe-default",
        [
          { value: "", label: "none (clients use their code default)" },
          ...m.variants.map((v) => ({ value: v.key, label: v.key })),
        ],
        m.defaultVariant ?? "",
        (value) => {
          m.defaultVariant = value || null;
          changed();
        },
      ),
      "Served when the flag is on and no prerequisite, target or rule decides otherwise (unless the fallthrough says else).",
    ),
  ]);

  function freeName() {
    for (let n = m.variants.length + 1; ; n++)
      if (!m.variants.some((v) => v.key === `variant-${n}`)) return `variant-${n}`;
  }

  /** Renaming a variant renames every reference to it, so rules keep serving it. @param {number} i */
  function renameInput(i) {
    const v = m.variants[i];
    let before = v.key;
    const el = textInput(
      `fe-variant-${i}-name`,
      v.key,
      (value) => {
        v.key = value;
        changed();
      },
      { class: "fe-variant-name", placeholder: "name" },
    );
    el.addEventListener("change", () => {
      if (before !== v.key) renameVariant(m, before, v.key);
      before = v.key;
      variants.redraw();
      variantsChanged();
    });
    return el;
  }

  /** @param {number} i */
  function valueInput(i) {
    const v = m.variants[i];
    const id = `fe-variant-${i}-value`;
    if (m.type === "boolean" && typeof v.value === "boolean") {
      return select(
        id,
        [
          { value: "true", label: "true" },
          { value: "false", label: "false" },
        ],
        String(v.value),
        (value) => {
          v.value = value === "true";
          changed();
        },
      );
    }
    if (m.type === "string" && typeof v.value === "string")
      return textInput(
        id,
        v.value,
        (value) => {
          v.value = value;
          changed();
        },
        { class: "fe-variant-value" },
      );
    if (m.type === "number" && typeof v.value === "number") {
      const el = /** @type {HTMLInputElement} */ (
        h("input", { type: "number", step: "any", id, value: String(v.value), class: "fe-variant-value" })
      );
      el.addEventListener("input", () => {
        if (el.value !== "" && Number.isFinite(Number(el.value))) {
          v.value = Number(el.value);
          changed();
        }
      });
      return el;
    }
    // Objects (and a value whose type does not match the flag's) are edited as JSON.
    const el = /** @type {HTMLTextAreaElement} */ (
      h("textarea", { id, class: "code fe-variant-value", rows: "3", spellcheck: "false" })
    );
    el.value = JSON.stringify(v.value, null, 2);
    el.addEventListener("input", () => {
      try {
        v.value = JSON.parse(el.value);
        el.removeAttribute("aria-invalid");
        changed();
      } catch {
        el.setAttribute("aria-invalid", "true");
      }
    });
    return el;
  }

  const variantOptions = () => m.variants.map((v) => ({ value: v.key, label: v.key }));

  const prereqs = section("fe-section", () => [
    h("h4", { text: "Prerequisites" }),
    h("p", {
      class: "hint",
      text: "This flag serves its targeting only when each of these flags serves the given variant; otherwise the default variant.",
    }),
    m.prerequisites.map((p, i) => {
      const other = env.flags().get(p.flag);
      return h(
        "div",
        { class: "fe-row" },
        h("label", { for: `fe-prereq-${i}-flag`, class: "sr-only", text: `Prerequisite ${i + 1} flag` }),
        typeahead(
          `fe-prereq-${i}-flag`,
          otherFlags,
          p.flag,
          (value) => {
            p.flag = value;
            p.variant = env.flags().get(value)?.variants[0] ?? "";
            prereqs.redraw();
            changed();
          },
          { noun: "flag" },
        ),
        h("span", { class: "muted", text: "serves" }),
        h("label", { for: `fe-prereq-${i}-variant`, class: "sr-only", text: `Prerequisite ${i + 1} variant` }),
        select(
          `fe-prereq-${i}-variant`,
          (other?.variants ?? []).map((k) => ({ value: k, label: k })),
          p.variant,
          (value) => {
            p.variant = value;
            changed();
          },
        ),
        button(
          "✕",
          () => {
            m.prerequisites.splice(i, 1);
            prereqs.redraw();
            changed();
          },
          { label: `Remove prerequisite ${p.flag}` },
        ),
      );
    }),
    h(
      "div",
      { class: "fe-row" },
      button(
        "+ Prerequisite",
        () => {
          const first = firstOther();
          m.prerequisites.push({ flag: first?.key ?? "", variant: first?.variants[0] ?? "" });
          prereqs.redraw();
          changed();
          // Straight into the picker: type to find the flag.
          /** @type {HTMLElement | null} */ (
            document.getElementById(`fe-prereq-${m.prerequisites.length - 1}-flag`)
          )?.focus();
        },
        { disabled: !firstOther() },
      ),
    ),
  ]);

  /** The keys of the flags other than this one (the picker filters them as the user types). */
  function* otherFlags() {
    for (const key of env.flags().keys()) if (key !== m.key) yield key;
  }

  function firstOther() {
    for (const f of env.flags().values()) if (f.key !== m.key) return f;
    return undefined;
  }

  /** The server's word on converting the JSON Logic: undefined while asked (or never, without env.nativeRules). */
  /** @type {import("./convert.js").NativeRulesAnswer | Error | undefined} */
  let conversion;
  if (m.targeting !== undefined && env.nativeRules) {
    env.nativeRules(toJson(m)).then(
      (answer) => {
        conversion = answer;
        targeting.redraw();
      },
      (e) => {
        conversion = e instanceof Error ? e : new Error(String(e));
        targeting.redraw();
      },
    );
  }
  const convert = () => {
    if (!conversion || conversion instanceof Error || !conversion.convertible) return;
    applyConversion(m, conversion.flag);
    targeting.redraw();
    changed();
  };

  const targeting = section("fe-targeting", () =>
    m.targeting !== undefined
      ? jsonLogicNotice(m.targeting, env.nativeRules ? convertOffer(conversion) : null, convert)
      : [
          h(
            "div",
            { class: "fe-section" },
            h("h4", { text: "Individual targets" }),
            h("p", {
              class: "hint",
              text: "These targeting keys get this variant, before any rule. One key per line.",
            }),
            m.targets.map((t, i) =>
              h(
                "div",
                { class: "fe-target-row" },
                h("label", { for: `fe-target-${i}-variant`, class: "sr-only", text: `Target ${i + 1} variant` }),
                select(`fe-target-${i}-variant`, variantOptions(), t.variant, (value) => {
                  t.variant = value;
                  changed();
                }),
                h("label", {
                  for: `fe-target-${i}-keys`,
                  class: "sr-only",
                  text: `Targeting keys served ${t.variant}`,
                }),
                (() => {
                  const el = /** @type {HTMLTextAreaElement} */ (
                    h("textarea", { id: `fe-target-${i}-keys`, rows: "2", spellcheck: "false", placeholder: "user-1" })
                  );
                  el.value = t.values.join("\n");
                  el.addEventListener("input", () => {
                    t.values = el.value
                      .split("\n")
                      .map((s) => s.trim())
                      .filter(Boolean);
                    changed();
                  });
                  return el;
                })(),
                button(
                  "✕",
                  () => {
                    m.targets.splice(i, 1);
                    targeting.redraw();
                    changed();
                  },
                  { label: `Remove the ${t.variant} target` },
                ),
              ),
            ),
            h(
              "div",
              { class: "fe-row" },
              button("+ Target", () => {
                m.targets.push({ variant: m.variants[0]?.key ?? "", values: [] });
                targeting.redraw();
                changed();
              }),
            ),
          ),
          h(
            "div",
            { class: "fe-section" },
            h("h4", { text: "Rules" }),
            h("p", { class: "hint", text: "Checked in order; the first rule that matches decides." }),
            attributeList(),
            h(
              "ol",
              { class: "fe-rules" },
              m.rules.map((r, i) =>
                h(
                  "li",
                  { class: "fe-rule", "aria-label": `Rule ${i + 1}` },
                  h(
                    "div",
                    { class: "fe-rule-head" },
                    h("strong", { text: `Rule ${i + 1}` }),
                    h("label", {
                      for: `fe-rule-${i}-description`,
                      class: "sr-only",
                      text: `Rule ${i + 1} description`,
                    }),
                    textInput(
                      `fe-rule-${i}-description`,
                      r.description ?? "",
                      (value) => {
                        if (value) r.description = value;
                        else delete r.description;
                        changed();
                      },
                      { placeholder: "description (optional)" },
                    ),
                    button(
                      "↑",
                      () => {
                        move(i, -1);
                      },
                      { id: `fe-rule-${i}-up`, label: `Move rule ${i + 1} up`, disabled: i === 0 },
                    ),
                    button(
                      "↓",
                      () => {
                        move(i, 1);
                      },
                      { id: `fe-rule-${i}-down`, label: `Move rule ${i + 1} down`, disabled: i === m.rules.length - 1 },
                    ),
                    button(
                      "✕",
                      () => {
                        m.rules.splice(i, 1);
                        targeting.redraw();
                        changed();
                      },
                      { label: `Remove rule ${i + 1}` },
                    ),
                  ),
                  h(
                    "div",
                    { class: "fe-when" },
                    h("span", { class: "fe-if", text: "If" }),
                    conditionEditor(
                      `fe-rule-${i}-when`,
                      () => r.when,
                      (c) => {
                        r.when = c;
                      },
                      { segments: env.segments, changed },
                      null,
                    ),
                  ),
                  serveEditor({
                    id: `fe-rule-${i}-serve`,
                    label: `Rule ${i + 1} serves`,
                    model: m,
                    get: () => r.serve,
                    set: (s) => {
                      if (s) r.serve = s;
                    },
                    allowDefault: false,
                    changed,
                  }),
                ),
              ),
            ),
            h(
              "div",
              { class: "fe-row" },
              button(
                "+ Rule",
                () => {
                  m.rules.push({ when: newCondition(), serve: { kind: "variant", variant: m.variants[0]?.key ?? "" } });
                  targeting.redraw();
                  changed();
                  /** @type {HTMLElement | null} */ (
                    document.getElementById(`fe-rule-${m.rules.length - 1}-when-attr`)
                  )?.focus();
                },
                { label: "Add a rule" },
              ),
            ),
          ),
          h(
            "div",
            { class: "fe-section" },
            h("h4", { text: "Fallthrough" }),
            serveEditor({
              id: "fe-fallthrough",
              label: "When no target or rule matches, serve",
              model: m,
              get: () => m.fallthrough,
              set: (s) => {
                m.fallthrough = s;
              },
              allowDefault: true,
              changed,
            }),
          ),
        ],
  );

  /** @param {number} i @param {number} by */
  function move(i, by) {
    const [rule] = m.rules.splice(i, 1);
    m.rules.splice(i + by, 0, rule);
    targeting.redraw();
    /** @type {HTMLElement | null} */ (document.getElementById(`fe-rule-${i + by}-${by < 0 ? "up" : "down"}`))?.focus();
    changed();
  }

  const element = h("div", { class: "visual-editor" }, basics.el, variants.el, prereqs.el, targeting.el);
  return { element, value: () => toJson(m), issues: () => checkModel(m) };
}

/**
 * @param {unknown} logic
 * @param {import("./convert.js").ConvertOffer | null} offer null: conversion is not offered here
 * @param {() => void} convert
 */
function jsonLogicNotice(logic, offer, convert) {
  return h(
    "div",
    { class: "fe-section" },
    h("h4", { text: "Targeting (flagd JSON Logic)" }),
    h(
      "div",
      { class: "alert alert-warn", role: "note" },
      "This flag was imported from flagd and its targeting is JSON Logic, shown read-only here: edit it in the JSON view. The visual editor converts it only when its rules mean exactly the same.",
    ),
    offer
      ? h(
          "div",
          { class: "fe-row fe-convert", "aria-live": "polite" },
          h("p", { class: "hint", text: offer.note }),
          offer.button ? button(offer.button, convert) : null,
        )
      : null,
    h("pre", { class: "code small fe-logic", text: JSON.stringify(logic, null, 2) }),
  );
}
