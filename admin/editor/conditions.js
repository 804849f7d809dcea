// @ts-check
// A rule's condition tree: attribute / operator / value rows, segment membership, and `all`/`any`
// groups and `not` around any of them. Typing changes the model in place; changing a condition's
// kind or adding/removing one redraws the tree (focus is restored by control id).
import { h } from "../dom.js";
import { button, section, select, textInput } from "./controls.js";
import { typeahead } from "./picker.js";
import { formatValues, newCondition, parseValues, valueTypeOf } from "./model.js";
import { COMMON_ATTRIBUTES, OPERATOR_INFO, OPERATOR_NAMES, valueWarning } from "./operators.js";

/** @typedef {import("./model.js").Cond} Cond */

const KINDS = [
  { value: "attribute", label: "Attribute" },
  { value: "segment", label: "In segment" },
  { value: "all", label: "All of" },
  { value: "any", label: "Any of" },
  { value: "not", label: "Not" },
];

/**
 * @typedef {object} CondEnv
 * @property {string[]} segments segment keys of the environment
 * @property {() => void} changed the model changed
 */

/**
 * The editor of one condition (and, for groups, its children).
 * @param {string} id control id prefix
 * @param {() => Cond} get
 * @param {(c: Cond) => void} set
 * @param {CondEnv} env
 * @param {(() => void) | null} remove null for a rule's root condition
 * @param {string} [listId] the shared datalist of attribute suggestions
 */
export function conditionEditor(id, get, set, env, remove, listId = "fe-attributes") {
  const part = section("fe-cond", () => {
    const c = get();
    const redraw = () => {
      part.redraw();
      env.changed();
    };
    const kind = select(
      `${id}-kind`,
      KINDS,
      c.kind,
      (value) => {
        set(convert(c, /** @type {Cond["kind"]} */ (value)));
        redraw();
      },
      { class: "fe-kind" },
    );
    const head = [h("label", { for: `${id}-kind`, class: "sr-only", text: "Condition kind" }), kind];
    const removeButton = remove ? button("✕", remove, { label: "Remove this condition" }) : null;

    if (c.kind === "attribute")
      return h("div", { class: "fe-cond-row" }, head, attributeFields(id, c, env, listId), removeButton);
    if (c.kind === "segment") {
      return h(
        "div",
        { class: "fe-cond-row" },
        head,
        h("label", { for: `${id}-segment`, class: "sr-only", text: "Segment" }),
        env.segments.length || c.segment
          ? typeahead(
              `${id}-segment`,
              () => env.segments,
              c.segment,
              (value) => {
                c.segment = value;
                env.changed();
              },
              { noun: "segment" },
            )
          : h("span", { class: "muted small", text: "No segments in this environment yet (Segments tab)." }),
        removeButton,
      );
    }
    if (c.kind === "not") {
      return h(
        "div",
        { class: "fe-group fe-not" },
        h(
          "div",
          { class: "fe-cond-row" },
          head,
          h("span", { class: "muted small", text: "the condition below is false" }),
          removeButton,
        ),
        conditionEditor(
          `${id}-not`,
          () => c.condition,
          (n) => {
            c.condition = n;
          },
          env,
          null,
          listId,
        ),
      );
    }
    const children = c.conditions.map((child, i) =>
      conditionEditor(
        `${id}-${i}`,
        () => c.conditions[i],
        (n) => {
          c.conditions[i] = n;
        },
        env,
        () => {
          c.conditions.splice(i, 1);
          redraw();
        },
        listId,
      ),
    );
    return h(
      "div",
      {
        class: `fe-group fe-${c.kind}`,
        role: "group",
        "aria-label": c.kind === "all" ? "All of these conditions" : "Any of these conditions",
      },
      h(
        "div",
        { class: "fe-cond-row" },
        head,
        h("span", {
          class: "muted small",
          text: c.kind === "all" ? "every condition below holds" : "at least one condition below holds",
        }),
        removeButton,
      ),
      h("div", { class: "fe-children" }, children),
      h(
        "div",
        { class: "fe-row" },
        button("+ Condition", () => {
          c.conditions.push(newCondition());
          redraw();
        }),
        button("+ Segment", () => {
          c.conditions.push({ kind: "segment", segment: env.segments[0] ?? "" });
          redraw();
        }),
        button("+ Group", () => {
          c.conditions.push({ kind: c.kind === "all" ? "any" : "all", conditions: [newCondition()] });
          redraw();
        }),
      ),
    );
  });
  return part.el;
}

/**
 * Changing a condition's kind keeps what it can: a group or `not` wraps the current condition,
 * and leaving one takes its first child.
 * @param {Cond} c @param {Cond["kind"]} kind @returns {Cond}
 */
function convert(c, kind) {
  const inner = c.kind === "not" ? c.condition : c.kind === "all" || c.kind === "any" ? c.conditions[0] : c;
  if (kind === "all" || kind === "any")
    return { kind, conditions: c.kind === "all" || c.kind === "any" ? c.conditions : [c] };
  if (kind === "not") return { kind: "not", condition: c };
  if (inner && inner.kind === kind) return inner;
  return kind === "segment" ? { kind: "segment", segment: "" } : newCondition();
}

/**
 * Attribute, operator, value type (for operators comparing any scalar) and the value(s).
 * @param {string} id @param {Extract<Cond, { kind: "attribute" }>} c @param {CondEnv} env @param {string} listId
 */
function attributeFields(id, c, env, listId) {
  const info = () => OPERATOR_INFO[c.op] ?? OPERATOR_INFO.equals;
  let type = valueTypeOf(c.op, c.values);
  const error = h("p", { class: "hint fe-value-msg", id: `${id}-msg`, "aria-live": "polite" });

  const attribute = textInput(
    `${id}-attr`,
    c.attribute,
    (value) => {
      c.attribute = value;
      env.changed();
    },
    { list: listId, placeholder: "context attribute", class: "fe-attr" },
  );
  const op = select(
    `${id}-op`,
    OPERATOR_NAMES.map((name) => ({ value: name, label: OPERATOR_INFO[name].label })),
    c.op,
    (value) => {
      c.op = value;
      // Keep the values the new operator can read; a single-value operator keeps the first.
      if (!info().many) c.values = c.values.slice(0, 1);
      const next = valueTypeOf(c.op, c.values);
      if (next !== type && info().kind !== "any") {
        type = next;
        readValues();
      }
      drawValue();
      env.changed();
    },
    { class: "fe-op" },
  );
  const typeSelect = select(
    `${id}-type`,
    [
      { value: "string", label: "text" },
      { value: "number", label: "number" },
      { value: "boolean", label: "true/false" },
      { value: "json", label: "JSON list" },
    ],
    type,
    (value) => {
      type = /** @type {any} */ (value);
      readValues();
      drawValue();
      env.changed();
    },
    { class: "fe-type" },
  );
  const valueSlot = h("span", { class: "fe-value" });
  /** @type {HTMLInputElement | HTMLTextAreaElement} */
  let valueInput;

  function readValues() {
    if (!valueInput) return;
    const parsed = parseValues(valueInput.value, type, info().many);
    if (parsed.ok) {
      c.values = parsed.values;
      const warnings = c.values.map((v) => valueWarning(info().kind, v)).filter(Boolean);
      error.textContent = warnings.join("; ");
      error.classList.toggle("bad", false);
      valueInput.removeAttribute("aria-invalid");
    } else {
      error.textContent = parsed.message;
      error.classList.add("bad");
      valueInput.setAttribute("aria-invalid", "true");
    }
  }

  function drawValue() {
    const many = info().many && type !== "json";
    const attrs = {
      id: `${id}-value`,
      placeholder: info().hint,
      spellcheck: "false",
      "aria-describedby": `${id}-msg`,
      class: "fe-value-input",
    };
    valueInput = many
      ? /** @type {HTMLTextAreaElement} */ (
          h("textarea", { ...attrs, rows: String(Math.min(6, Math.max(2, c.values.length))) })
        )
      : /** @type {HTMLInputElement} */ (h("input", { ...attrs, type: "text", autocomplete: "off" }));
    valueInput.value = formatValues(c.values, type);
    valueInput.addEventListener("input", () => {
      readValues();
      env.changed();
    });
    typeSelect.hidden = info().kind !== "any";
    valueSlot.replaceChildren(
      h("label", { for: `${id}-value`, class: "sr-only", text: `Value${info().many ? "s (one per line)" : ""}` }),
      valueInput,
    );
    error.textContent = c.values
      .map((v) => valueWarning(info().kind, v))
      .filter(Boolean)
      .join("; ");
    error.classList.remove("bad");
  }
  drawValue();

  return h(
    "div",
    { class: "fe-attr-fields" },
    h("label", { for: `${id}-attr`, class: "sr-only", text: "Attribute" }),
    attribute,
    h("label", { for: `${id}-op`, class: "sr-only", text: "Operator" }),
    op,
    h("label", { for: `${id}-type`, class: "sr-only", text: "Value type" }),
    typeSelect,
    valueSlot,
    error,
  );
}

/** The datalist of attribute suggestions (once per editor). */
export const attributeList = (listId = "fe-attributes") =>
  h(
    "datalist",
    { id: listId },
    COMMON_ATTRIBUTES.map((a) => h("option", { value: a })),
  );
