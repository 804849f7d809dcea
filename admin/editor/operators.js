// @ts-check
// The operators of native conditions as the visual editor offers them: a label, how many values
// they take and what those values are (which decides the input, its hint and how text is parsed).
// Pure data, importable from Node: a test checks it lists exactly the operators of src/core/model.ts.

/**
 * `any`: string, number or boolean (the condition picks one); `number`: a finite number;
 * `string`: text; `regex`: the restricted pattern grammar; `semver`: a version; `date`: ISO 8601 or epoch ms.
 * @typedef {"any" | "string" | "number" | "regex" | "semver" | "date"} ValueKind
 */

/**
 * @typedef {object} OperatorInfo
 * @property {string} label
 * @property {boolean} many takes a list of values (else exactly one: `values[0]`)
 * @property {ValueKind} kind
 * @property {string} hint placeholder / help text for the value input
 */

/** @type {Record<string, OperatorInfo>} */
export const OPERATOR_INFO = {
  equals: { label: "equals", many: false, kind: "any", hint: "a value" },
  notEquals: { label: "does not equal", many: false, kind: "any", hint: "a value" },
  in: { label: "is one of", many: true, kind: "any", hint: "one value per line" },
  notIn: { label: "is not one of", many: true, kind: "any", hint: "one value per line" },
  startsWith: { label: "starts with", many: false, kind: "string", hint: "text, e.g. user-" },
  endsWith: { label: "ends with", many: false, kind: "string", hint: "text, e.g. @example.com" },
  contains: { label: "contains", many: false, kind: "string", hint: "text" },
  notContains: { label: "does not contain", many: false, kind: "string", hint: "text" },
  matches: {
    label: "matches regex",
    many: false,
    kind: "regex",
    hint: "restricted regex, e.g. ^user-[0-9]+$ (no nested quantifiers or backreferences)",
  },
  lt: { label: "<", many: false, kind: "number", hint: "a number" },
  lte: { label: "≤", many: false, kind: "number", hint: "a number" },
  gt: { label: ">", many: false, kind: "number", hint: "a number" },
  gte: { label: "≥", many: false, kind: "number", hint: "a number" },
  semverEq: { label: "version =", many: false, kind: "semver", hint: "semver, e.g. 1.2.3" },
  semverNeq: { label: "version ≠", many: false, kind: "semver", hint: "semver, e.g. 1.2.3" },
  semverLt: { label: "version <", many: false, kind: "semver", hint: "semver, e.g. 2.0.0" },
  semverLte: { label: "version ≤", many: false, kind: "semver", hint: "semver, e.g. 2.0.0" },
  semverGt: { label: "version >", many: false, kind: "semver", hint: "semver, e.g. 1.4.0" },
  semverGte: { label: "version ≥", many: false, kind: "semver", hint: "semver, e.g. 1.4.0" },
  semverTilde: {
    label: "version ~ (same minor)",
    many: false,
    kind: "semver",
    hint: "semver, e.g. 1.4.0 matches 1.4.x",
  },
  semverCaret: {
    label: "version ^ (same major)",
    many: false,
    kind: "semver",
    hint: "semver, e.g. 1.4.0 matches 1.x.x",
  },
  before: { label: "is before", many: false, kind: "date", hint: "ISO date, e.g. 2027-01-01 or 2027-01-01T09:00:00Z" },
  after: { label: "is after", many: false, kind: "date", hint: "ISO date, e.g. 2027-01-01 or 2027-01-01T09:00:00Z" },
};

export const OPERATOR_NAMES = Object.keys(OPERATOR_INFO);

/** Attributes worth suggesting; any dotted context path works. */
export const COMMON_ATTRIBUTES = [
  "targetingKey",
  "email",
  "country",
  "plan",
  "appVersion",
  "user.id",
  "$flagd.flagKey",
  "$flagd.timestamp",
];

/** What the core accepts as a date value (kept in step with src/core/native/ops/date.ts). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** A plain semver with optional v prefix, pre-release and build (flagd's sem_ver reading). */
const SEMVER = /^v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * A hint when a value does not look like what the operator compares (the server still decides).
 * @param {ValueKind} kind @param {string|number|boolean} value
 * @returns {string | null}
 */
export function valueWarning(kind, value) {
  if (kind === "semver" && !(typeof value === "string" && SEMVER.test(value)))
    return `“${value}” is not a version like 1.2.3`;
  if (kind === "date" && !(typeof value === "number" || (typeof value === "string" && ISO_DATE.test(value))))
    return `“${value}” is not an ISO 8601 date like 2027-01-01`;
  return null;
}
