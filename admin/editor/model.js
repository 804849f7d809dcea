// @ts-check
// Native flag JSON ⇄ the visual editor's model, and the checks the editor makes before saving.
// Pure (no DOM, no fetch) so Node tests import it: for every valid flag, JSON → model → JSON gives
// the same flag and model → JSON → model the same model (test/admin-page/editor-model.node.test.ts).
//
// The model differs from the JSON only where a form needs it: variants are an ordered list (they
// get renamed and reordered), conditions and serves carry a `kind` (a form switches on it), and
// every list is present (the JSON's optional fields are remembered in `present`, so a flag that had
// no `tags` does not come back with `tags: []`). Fields the editor does not know (`metadata`, and
// any a later model adds) ride along untouched in `rest`.

import { OPERATOR_INFO, valueWarning } from "./operators.js";

/** @typedef {string | number | boolean} Scalar */
/**
 * @typedef {{ kind: "attribute", attribute: string, op: string, values: Scalar[] }
 *   | { kind: "segment", segment: string }
 *   | { kind: "all", conditions: Cond[] }
 *   | { kind: "any", conditions: Cond[] }
 *   | { kind: "not", condition: Cond }} Cond
 */
/** @typedef {{ variant: string, weight: number }} Weight */
/** @typedef {{ kind: "variant", variant: string } | { kind: "rollout", bucketBy?: string, weights: Weight[] }} Serve */
/** @typedef {{ id?: string, description?: string, when: Cond, serve: Serve }} Rule */
/**
 * @typedef {object} EditorFlag
 * @property {string} key
 * @property {string} type boolean | string | number | object
 * @property {boolean} enabled
 * @property {boolean} clientVisible
 * @property {string} description
 * @property {string[]} tags
 * @property {string | undefined} kind release/experiment/… when the model has one
 * @property {{ key: string, value: unknown }[]} variants
 * @property {string | null} defaultVariant null: no default (clients use their code default)
 * @property {Serve | null} fallthrough null: serve the default variant
 * @property {{ variant: string, values: string[] }[]} targets
 * @property {Rule[]} rules
 * @property {{ flag: string, variant: string }[]} prerequisites
 * @property {unknown} targeting flagd JSON Logic (read-only here); undefined when native
 * @property {string[]} present optional JSON fields the source had, so they come back even when empty
 * @property {Record<string, unknown>} rest fields the editor does not edit, kept as they were
 */

/** Optional fields whose absence differs from their empty form in the JSON. */
const OPTIONAL = [
  "description",
  "tags",
  "kind",
  "defaultVariant",
  "targets",
  "rules",
  "prerequisites",
  "fallthrough",
  "targeting",
];
/** Every field the model maps; the rest goes to `rest`. */
const KNOWN = new Set(["key", "type", "enabled", "clientVisible", "variants", ...OPTIONAL]);

/** @param {object} o @param {string} k */
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * @param {any} c a native condition
 * @returns {Cond}
 */
export function condToModel(c) {
  if (has(c, "attribute")) return { kind: "attribute", attribute: c.attribute, op: c.op, values: [...c.values] };
  if (has(c, "segment")) return { kind: "segment", segment: c.segment };
  if (has(c, "all")) return { kind: "all", conditions: c.all.map(condToModel) };
  if (has(c, "any")) return { kind: "any", conditions: c.any.map(condToModel) };
  return { kind: "not", condition: condToModel(c.not) };
}

/**
 * @param {Cond} c
 * @returns {any}
 */
export function condToJson(c) {
  switch (c.kind) {
    case "attribute":
      return { attribute: c.attribute, op: c.op, values: [...c.values] };
    case "segment":
      return { segment: c.segment };
    case "all":
      return { all: c.conditions.map(condToJson) };
    case "any":
      return { any: c.conditions.map(condToJson) };
    case "not":
      return { not: condToJson(c.condition) };
  }
}

/** @param {any} s @returns {Serve} */
function serveToModel(s) {
  if (has(s, "variant")) return { kind: "variant", variant: s.variant };
  /** @type {Serve} */
  const out = {
    kind: "rollout",
    weights: s.rollout.variants.map((/** @type {Weight} */ w) => ({ variant: w.variant, weight: w.weight })),
  };
  if (s.rollout.bucketBy !== undefined) out.bucketBy = s.rollout.bucketBy;
  return out;
}

/** @param {Serve} s */
function serveToJson(s) {
  if (s.kind === "variant") return { variant: s.variant };
  /** @type {{ bucketBy?: string, variants: Weight[] }} */
  const rollout = { variants: s.weights.map((w) => ({ variant: w.variant, weight: w.weight })) };
  if (s.bucketBy !== undefined) rollout.bucketBy = s.bucketBy;
  return { rollout };
}

/**
 * A native flag (as the admin API answers it; its `version` is dropped) → the editor model.
 * @param {any} flag
 * @returns {EditorFlag}
 */
export function toModel(flag) {
  /** @type {Record<string, unknown>} */
  const rest = {};
  for (const [k, v] of Object.entries(flag)) if (!KNOWN.has(k) && k !== "version") rest[k] = structuredClone(v);
  return {
    key: flag.key,
    type: flag.type,
    enabled: flag.enabled !== false,
    clientVisible: flag.clientVisible === true,
    description: flag.description ?? "",
    tags: [...(flag.tags ?? [])],
    kind: flag.kind,
    variants: Object.entries(flag.variants ?? {}).map(([key, value]) => ({ key, value: structuredClone(value) })),
    defaultVariant: flag.defaultVariant ?? null,
    fallthrough: flag.fallthrough ? serveToModel(flag.fallthrough) : null,
    targets: (flag.targets ?? []).map((/** @type {any} */ t) => ({ variant: t.variant, values: [...t.values] })),
    rules: (flag.rules ?? []).map((/** @type {any} */ r) => {
      /** @type {Rule} */
      const rule = { when: condToModel(r.when), serve: serveToModel(r.serve) };
      if (r.id !== undefined) rule.id = r.id;
      if (r.description !== undefined) rule.description = r.description;
      return rule;
    }),
    prerequisites: (flag.prerequisites ?? []).map((/** @type {any} */ p) => ({ flag: p.flag, variant: p.variant })),
    targeting: flag.targeting === undefined ? undefined : structuredClone(flag.targeting),
    present: OPTIONAL.filter((k) => has(flag, k) && flag[k] !== undefined),
    rest,
  };
}

/**
 * The editor model → native flag JSON (what the page PUTs). Optional fields appear when the source
 * had them or they hold something.
 * @param {EditorFlag} m
 * @returns {Record<string, unknown>}
 */
export function toJson(m) {
  const keep = (/** @type {string} */ k, /** @type {boolean} */ nonEmpty) => nonEmpty || m.present.includes(k);
  /** @type {Record<string, unknown>} */
  const out = { key: m.key, type: m.type };
  if (keep("description", m.description !== "")) out.description = m.description;
  if (keep("kind", m.kind !== undefined) && m.kind !== undefined) out.kind = m.kind;
  out.variants = Object.fromEntries(m.variants.map((v) => [v.key, structuredClone(v.value)]));
  if (keep("defaultVariant", m.defaultVariant !== null)) out.defaultVariant = m.defaultVariant;
  out.enabled = m.enabled;
  out.clientVisible = m.clientVisible;
  if (keep("tags", m.tags.length > 0)) out.tags = [...m.tags];
  if (keep("prerequisites", m.prerequisites.length > 0))
    out.prerequisites = m.prerequisites.map((p) => ({ flag: p.flag, variant: p.variant }));
  if (keep("targets", m.targets.length > 0))
    out.targets = m.targets.map((t) => ({ variant: t.variant, values: [...t.values] }));
  if (keep("rules", m.rules.length > 0)) {
    out.rules = m.rules.map((r) => {
      /** @type {Record<string, unknown>} */
      const rule = {};
      if (r.id !== undefined) rule.id = r.id;
      if (r.description !== undefined) rule.description = r.description;
      rule.when = condToJson(r.when);
      rule.serve = serveToJson(r.serve);
      return rule;
    });
  }
  if (m.fallthrough) out.fallthrough = serveToJson(m.fallthrough);
  if (m.targeting !== undefined) out.targeting = structuredClone(m.targeting);
  for (const [k, v] of Object.entries(m.rest)) out[k] = structuredClone(v);
  return out;
}

// ---- values of conditions and variants, as text in inputs ----------------------------------------

/**
 * Which input type a condition's values get. `json` when an `in` list mixes types (edited as a JSON array).
 * @typedef {"string" | "number" | "boolean" | "json"} ValueType
 */

/**
 * @param {string} op
 * @param {Scalar[]} values
 * @returns {ValueType}
 */
export function valueTypeOf(op, values) {
  const kind = OPERATOR_INFO[op]?.kind ?? "any";
  if (kind === "number") return "number";
  if (kind === "date" && typeof values[0] === "number") return "number";
  if (kind !== "any") return "string";
  const types = new Set(values.map((v) => typeof v));
  if (types.size > 1) return "json";
  const only = [...types][0];
  return only === "number" || only === "boolean" ? only : "string";
}

/**
 * The values as the input shows them: one per line for list operators.
 * @param {Scalar[]} values @param {ValueType} type
 */
export function formatValues(values, type) {
  if (type === "json") return JSON.stringify(values);
  return values.map(String).join("\n");
}

/**
 * Text from the value input → the condition's values, or the reason it cannot be.
 * @param {string} text @param {ValueType} type @param {boolean} many
 * @returns {{ ok: true, values: Scalar[] } | { ok: false, message: string }}
 */
export function parseValues(text, type, many) {
  if (type === "json") {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, message: `not a JSON array: ${e instanceof Error ? e.message : e}` };
    }
    if (!Array.isArray(parsed) || !parsed.every((v) => ["string", "number", "boolean"].includes(typeof v))) {
      return { ok: false, message: "must be a JSON array of strings, numbers and booleans" };
    }
    return { ok: true, values: parsed };
  }
  const lines = many ? text.split("\n").filter((l) => l.trim() !== "") : [text];
  /** @type {Scalar[]} */
  const values = [];
  for (const line of lines) {
    if (type === "string") values.push(line);
    else if (type === "boolean") {
      const t = line.trim();
      if (t !== "true" && t !== "false") return { ok: false, message: `“${line}” is not true or false` };
      values.push(t === "true");
    } else {
      const n = Number(line.trim());
      if (line.trim() === "" || !Number.isFinite(n)) return { ok: false, message: `“${line}” is not a number` };
      values.push(n);
    }
  }
  return { ok: true, values };
}

// ---- checks before saving (the server validates again; these catch what a form can get wrong) ----

/** @typedef {{ path: string, message: string, warning?: boolean }} EditorIssue */

/**
 * Problems of a model: errors block Save, warnings only inform.
 * @param {EditorFlag} m
 * @returns {EditorIssue[]}
 */
export function checkModel(m) {
  /** @type {EditorIssue[]} */
  const issues = [];
  const names = new Set();
  m.variants.forEach((v, i) => {
    if (!v.key) issues.push({ path: `variants[${i}]`, message: "a variant needs a name" });
    else if (names.has(v.key)) issues.push({ path: `variants[${i}]`, message: `two variants are named “${v.key}”` });
    names.add(v.key);
  });
  const known = (/** @type {string} */ v) => names.has(v);
  if (m.defaultVariant !== null && !known(m.defaultVariant))
    issues.push({ path: "defaultVariant", message: `default variant “${m.defaultVariant}” does not exist` });
  m.targets.forEach((t, i) => {
    if (!known(t.variant))
      issues.push({ path: `targets[${i}]`, message: `target variant “${t.variant}” does not exist` });
  });
  m.prerequisites.forEach((p, i) => {
    if (!p.flag || !p.variant)
      issues.push({ path: `prerequisites[${i}]`, message: "pick a flag and the variant it must serve" });
  });
  const serve = (/** @type {Serve} */ s, /** @type {string} */ path) => {
    if (s.kind === "variant") {
      if (!known(s.variant)) issues.push({ path, message: `variant “${s.variant}” does not exist` });
      return;
    }
    const total = s.weights.reduce((n, w) => n + w.weight, 0);
    if (total !== 100) issues.push({ path, message: `rollout weights add up to ${total}%, not 100%` });
    s.weights.forEach((w) => {
      if (!known(w.variant)) issues.push({ path, message: `rollout variant “${w.variant}” does not exist` });
    });
  };
  const cond = (/** @type {Cond} */ c, /** @type {string} */ path) => {
    if (c.kind === "attribute") {
      if (!c.attribute.trim()) issues.push({ path, message: "pick an attribute" });
      const info = OPERATOR_INFO[c.op];
      if (info && !info.many && c.values.length !== 1)
        issues.push({ path, message: `“${info.label}” takes one value` });
      if (info?.many && c.values.length === 0)
        issues.push({ path, message: `“${info.label}” needs at least one value` });
      for (const v of c.values) {
        const warn = info ? valueWarning(info.kind, v) : null;
        if (warn) issues.push({ path, message: warn, warning: true });
      }
    } else if (c.kind === "segment") {
      if (!c.segment) issues.push({ path, message: "pick a segment" });
    } else if (c.kind === "not") cond(c.condition, `${path}.not`);
    else {
      if (c.conditions.length === 0)
        issues.push({ path, message: `an “${c.kind}” group needs at least one condition` });
      c.conditions.forEach((child, i) => cond(child, `${path}.${c.kind}[${i}]`));
    }
  };
  m.rules.forEach((r, i) => {
    cond(r.when, `rules[${i}].when`);
    serve(r.serve, `rules[${i}].serve`);
  });
  if (m.fallthrough) serve(m.fallthrough, "fallthrough");
  return issues;
}

/**
 * Renames variant `from` to `to` everywhere the flag refers to it, so rules keep serving it.
 * @param {EditorFlag} m @param {string} from @param {string} to
 */
export function renameVariant(m, from, to) {
  if (m.defaultVariant === from) m.defaultVariant = to;
  for (const t of m.targets) if (t.variant === from) t.variant = to;
  const serve = (/** @type {Serve | null} */ s) => {
    if (!s) return;
    if (s.kind === "variant") {
      if (s.variant === from) s.variant = to;
    } else for (const w of s.weights) if (w.variant === from) w.variant = to;
  };
  for (const r of m.rules) serve(r.serve);
  serve(m.fallthrough);
}

// ---- defaults the form starts from ---------------------------------------------------------------

/** A new variant value of `type` (object flags start with an empty object). @param {string} type */
export function defaultValue(type) {
  return type === "boolean" ? false : type === "number" ? 0 : type === "object" ? {} : "";
}

/** @returns {Cond} */
export const newCondition = () => ({ kind: "attribute", attribute: "email", op: "endsWith", values: [""] });

/**
 * A 100% rollout split evenly over the flag's first two variants (or its only one).
 * @param {EditorFlag} m @returns {Serve}
 */
export function newRollout(m) {
  const names = m.variants.map((v) => v.key).slice(0, 2);
  if (names.length === 0) return { kind: "rollout", weights: [] };
  if (names.length === 1) return { kind: "rollout", weights: [{ variant: names[0], weight: 100 }] };
  return {
    kind: "rollout",
    weights: [
      { variant: names[0], weight: 50 },
      { variant: names[1], weight: 50 },
    ],
  };
}

/**
 * Moves the boundary after weight `i` to `percent` of the bar (what dragging a handle does): the
 * weights on both sides of it change, the total stays. Integer weights, clamped to their neighbours.
 * @param {Weight[]} weights @param {number} i @param {number} percent
 * @returns {Weight[]}
 */
export function moveBoundary(weights, i, percent) {
  const before = weights.slice(0, i).reduce((n, w) => n + w.weight, 0);
  const pair = weights[i].weight + weights[i + 1].weight;
  const left = Math.max(0, Math.min(pair, Math.round(percent) - before));
  return weights.map((w, j) => (j === i ? { ...w, weight: left } : j === i + 1 ? { ...w, weight: pair - left } : w));
}

/** Rescales weights to add up to 100 (largest remainders), e.g. flagd's relative 1:1 → 50:50. @param {Weight[]} weights */
export function scaleTo100(weights) {
  const total = weights.reduce((n, w) => n + w.weight, 0);
  if (total === 0 || weights.length === 0) return weights.map((w, i) => ({ ...w, weight: i === 0 ? 100 : 0 }));
  const exact = weights.map((w) => (w.weight * 100) / total);
  const out = exact.map(Math.floor);
  let left = 100 - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i] += 1;
    left -= 1;
  }
  return weights.map((w, i) => ({ ...w, weight: out[i] }));
}
