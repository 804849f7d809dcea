/**
 * flagd flag-definition document → native EnvironmentDoc.
 *
 * Each flagd flag becomes a native flag whose `targeting` keeps the JSON Logic as written (the
 * engine compiles it, resolving `$ref` from `doc.evaluators`). The namespaced extension keys that
 * `exportFlagd` writes (see `EXT` in types.ts) are read back and stripped, so edgeflags-only
 * features survive export → import.
 *
 * Decisions, where flagd's own schema leaves room:
 * - Top-level keys other than `flags`, `$evaluators`, `metadata` and `$schema` are errors, and so
 *   are unknown flag properties: a typo must not silently drop a setting. The one exception is
 *   `warnings`, which edgeflags' own export answers carry beside the document: ignored, so an
 *   export can be PUT back as is.
 * - Flag and variant keys must match the native KEY_PATTERN (they appear in URL paths).
 * - `defaultVariant` null, absent or "" all mean "no default variant" (flagd-core treats "" so).
 * - A `$ref` to an evaluator that does not exist is accepted by default, as flagd does: that flag
 *   then answers PARSE_ERROR (the flagd testbed requires exactly this). `{ strictRefs: true }`
 *   turns each such `$ref` into an import error instead.
 *
 * Re-import (the GitOps loop) must not change what the file does not say. `readFlagd` records,
 * per flag, which edgeflags-only fields its metadata left unstated, and `mergeFlagdImport` (run
 * by the store inside the transaction that reads the current flags) takes those from the flag of
 * the same key already in the environment. A new flag's visibility is the flag-set level
 * `edgeflags.clientVisible` (top-level `metadata`), else false; a flag's own metadata wins.
 * Segments travel in `$evaluators["edgeflags.segments"]`: a document without that entry keeps the
 * environment's segments.
 * @module
 */
import * as z from "zod/mini";
import {
  EnvironmentDoc,
  FLAG_TYPES,
  KEY_PATTERN,
  Prerequisite,
  Rule,
  Segment,
  Serve,
  Target,
  type Flag,
  type FlagType,
  type Metadata,
} from "../model";
import { fail, ok, type Issue, type Result } from "../result";
import { zodIssues, type ZodIssueLike } from "../issues";
import type { JsonValue } from "../evaluation-types";
import { contentHash } from "../canonical";
import { FLAG_KINDS, type FlagKind } from "../lifecycle";
import { checkJsonShape, DOCUMENT_LIMITS } from "../limits";
import { hasTargeting } from "../logic/compile-logic";
import { EXT, EXT_KEYS, SEGMENTS_EVALUATOR, segmentEvaluatorName } from "./types";

export interface ImportOptions {
  /** Reject `$ref`s to evaluators that `$evaluators` does not define (default: accept, as flagd). */
  strictRefs?: boolean;
}

const TOP_LEVEL_KEYS = new Set(["$schema", "flags", "$evaluators", "metadata", "warnings"]);
const FLAG_KEYS = new Set(["state", "variants", "defaultVariant", "targeting", "metadata"]);

/** The edgeflags-only flag fields an import carries, each written as `edgeflags.<field>` metadata. */
export const IMPORTED_FIELDS = ["clientVisible", "description", "tags", "prerequisites", "kind"] as const;
export type ImportedField = (typeof IMPORTED_FIELDS)[number];

/** A flagd document read and validated, before it meets the environment it is imported into. */
export interface FlagdImport {
  /** The document's flags as new flags (unstated fields: the flag-set default or absent). */
  doc: EnvironmentDoc;
  /** Per flag key: the edgeflags-only fields its metadata did not state. */
  unstated: Record<string, ImportedField[]>;
  /** No `edgeflags.segments` evaluator: the environment keeps its segments. */
  keepSegments: boolean;
}

/**
 * The document imported into `current` (the environment's document now): unstated fields of
 * flags that exist in `current` keep their current values (absent ones stay absent), and
 * segments stay when the document carries none. Pure; the caller validates the result.
 */
export function mergeFlagdImport(imported: FlagdImport, current: EnvironmentDoc): EnvironmentDoc {
  const currentFlags = new Map(current.flags.map((f) => [f.key, f]));
  const flags = imported.doc.flags.map((flag) => {
    const existing = currentFlags.get(flag.key);
    const unstated = Object.hasOwn(imported.unstated, flag.key) ? imported.unstated[flag.key]! : [];
    if (!existing || unstated.length === 0) return flag;
    const merged: Record<string, unknown> = { ...flag };
    for (const field of unstated) {
      if (existing[field] === undefined) delete merged[field];
      else merged[field] = existing[field];
    }
    return merged as Flag;
  });
  return { ...imported.doc, flags, segments: imported.keepSegments ? current.segments : imported.doc.segments };
}

/** Accepts the document as a parsed object or as JSON text; imports into an empty environment. */
export function importFlagd(input: unknown, options: ImportOptions = {}): Result<EnvironmentDoc> {
  const read = readFlagd(input, options);
  return read.ok ? ok(read.value.doc) : read;
}

/** Reads and validates a flagd document (parsed object or JSON text) for `mergeFlagdImport`. */
export function readFlagd(input: unknown, options: ImportOptions = {}): Result<FlagdImport> {
  let raw = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      return fail([{ path: "", message: "not valid JSON: " + (err as Error).message }]);
    }
  }
  if (!isObject(raw)) return fail([{ path: "", message: "a flagd document must be a JSON object with `flags`" }]);
  // Plain JSON within the document limits (depth, sizes, no `__proto__` keys, finite numbers)
  // before anything below walks it.
  const shape = checkJsonShape(raw, DOCUMENT_LIMITS);
  if (shape) return fail([shape]);

  const issues: Issue[] = [];
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      issues.push({ path: key, message: "unknown top-level key (allowed: flags, $evaluators, metadata, $schema)" });
    }
  }
  if (raw.$schema !== undefined && typeof raw.$schema !== "string") {
    issues.push({ path: "$schema", message: "must be a string (a schema URL)" });
  }

  const setMetadata = readMetadata(raw.metadata, "metadata", issues);
  const setVisible = setMetadata?.[EXT.clientVisible];
  if (setVisible !== undefined && typeof setVisible !== "boolean")
    issues.push({ path: `metadata.${EXT.clientVisible}`, message: "must be a boolean" });
  const defaults: FlagDefaults = { clientVisible: setVisible === true };
  // edgeflags.* keys configure the import; they are not metadata flags answer with.
  const metadata = setMetadata && withoutExtensions(setMetadata);
  const { evaluators, segments, segmentsStated } = readEvaluators(raw.$evaluators, issues);

  const flags: Flag[] = [];
  const unstated: Record<string, ImportedField[]> = {};
  if (raw.flags === undefined) {
    issues.push({ path: "flags", message: "required: an object of flag key → flag definition" });
  } else if (!isObject(raw.flags)) {
    issues.push({ path: "flags", message: "must be an object of flag key → flag definition" });
  } else {
    for (const [key, def] of Object.entries(raw.flags)) {
      const read = readFlag(key, def, evaluators, defaults, options, issues);
      if (read) {
        flags.push(read.flag);
        if (read.unstated.length > 0) unstated[key] = read.unstated;
      }
    }
  }
  if (issues.length > 0) return fail(issues);

  const doc: EnvironmentDoc = { flags, segments };
  if (metadata && Object.keys(metadata).length > 0) doc.metadata = metadata;
  const kept = evaluators && dropGeneratedSegmentEvaluators(evaluators, segments, flags);
  if (kept) doc.evaluators = kept;

  // Safety net: whatever the checks above let through must still be a valid native document.
  const checked = EnvironmentDoc.safeParse(doc);
  if (!checked.success)
    return fail(
      byFlagKey(
        checked.error.issues,
        flags.map((f) => f.key),
      ),
    );
  return ok({ doc: checked.data, unstated, keepSegments: !segmentsStated });
}

interface FlagDefaults {
  /** The flag-set level `edgeflags.clientVisible`. */
  clientVisible: boolean;
}

function withoutExtensions(meta: Metadata): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(meta)) if (!EXT_KEYS.has(k)) out[k] = v;
  return out;
}

function readFlag(
  key: string,
  def: unknown,
  evaluators: Record<string, unknown> | undefined,
  defaults: FlagDefaults,
  options: ImportOptions,
  issues: Issue[],
): { flag: Flag; unstated: ImportedField[] } | undefined {
  const at = `flags.${key}`;
  const before = issues.length;
  if (!KEY_PATTERN.test(key)) {
    issues.push({ path: at, message: `flag key must match ${KEY_PATTERN.source}` });
  }
  if (!isObject(def)) {
    issues.push({ path: at, message: "a flag must be an object with state and variants" });
    return undefined;
  }
  for (const prop of Object.keys(def)) {
    if (!FLAG_KEYS.has(prop)) {
      issues.push({
        path: `${at}.${prop}`,
        message: "unknown flag property (allowed: state, variants, defaultVariant, targeting, metadata)",
      });
    }
  }

  if (def.state === undefined) issues.push({ path: `${at}.state`, message: 'required: "ENABLED" or "DISABLED"' });
  else if (def.state !== "ENABLED" && def.state !== "DISABLED") {
    issues.push({ path: `${at}.state`, message: `unknown state ${show(def.state)}: must be "ENABLED" or "DISABLED"` });
  }

  const variants: Record<string, JsonValue> = {};
  if (!isObject(def.variants)) {
    issues.push({
      path: `${at}.variants`,
      message:
        def.variants === undefined
          ? "required: an object of variant key → value"
          : "must be an object of variant key → value",
    });
  } else if (Object.keys(def.variants).length === 0) {
    issues.push({ path: `${at}.variants`, message: "must define at least one variant" });
  } else {
    for (const [vk, value] of Object.entries(def.variants)) {
      if (!KEY_PATTERN.test(vk))
        issues.push({ path: `${at}.variants.${vk}`, message: `variant key must match ${KEY_PATTERN.source}` });
      else variants[vk] = value as JsonValue;
    }
  }

  let defaultVariant: string | null = null;
  if (typeof def.defaultVariant === "string" && def.defaultVariant !== "") {
    defaultVariant = def.defaultVariant;
    if (isObject(def.variants) && !Object.hasOwn(def.variants, defaultVariant)) {
      issues.push({
        path: `${at}.defaultVariant`,
        message: `${show(defaultVariant)} is not a variant (variants: ${Object.keys(def.variants).join(", ")})`,
      });
    }
  } else if (def.defaultVariant !== undefined && def.defaultVariant !== null && def.defaultVariant !== "") {
    issues.push({ path: `${at}.defaultVariant`, message: "must be a variant key, null or absent" });
  }

  const t = def.targeting;
  const targeted = hasTargeting(t);
  if (targeted && options.strictRefs) checkRefs(t, `${at}.targeting`, evaluators, issues);

  const allMetadata = readMetadata(def.metadata, `${at}.metadata`, issues);
  if (issues.length > before) return undefined;

  const flag: Flag = {
    key,
    type: inferType(Object.values(variants)),
    variants,
    defaultVariant,
    enabled: def.state !== "DISABLED",
    clientVisible: defaults.clientVisible,
  };
  if (targeted) flag.targeting = t;

  const metadata = withoutExtensions(allMetadata ?? {});
  if (Object.keys(metadata).length > 0) flag.metadata = metadata;
  if (allMetadata) applyExtensions(flag, allMetadata, `${at}.metadata`, issues);
  const unstated = IMPORTED_FIELDS.filter((field) => allMetadata?.[EXT[field]] === undefined);
  return issues.length > before ? undefined : { flag, unstated };
}

const NativeTargeting = z.object({
  fingerprint: z.string(),
  targets: z.optional(z.array(Target)),
  rules: z.optional(z.array(Rule)),
  fallthrough: z.optional(Serve),
  /** Present when export wrote the fallthrough variant of a static flag as flagd's default variant. */
  defaultVariant: z.optional(z.nullable(z.string())),
});

/** Reads back the edgeflags.* metadata that exportFlagd writes. */
function applyExtensions(flag: Flag, meta: Metadata, at: string, issues: Issue[]): void {
  const visible = meta[EXT.clientVisible];
  if (visible !== undefined) {
    if (typeof visible === "boolean") flag.clientVisible = visible;
    else issues.push({ path: `${at}.${EXT.clientVisible}`, message: "must be a boolean" });
  }
  const description = meta[EXT.description];
  if (description !== undefined) {
    if (typeof description === "string") flag.description = description;
    else issues.push({ path: `${at}.${EXT.description}`, message: "must be a string" });
  }
  const kind = meta[EXT.kind];
  if (kind !== undefined) {
    if ((FLAG_KINDS as readonly unknown[]).includes(kind)) flag.kind = kind as FlagKind;
    else issues.push({ path: `${at}.${EXT.kind}`, message: `must be one of ${FLAG_KINDS.join(", ")}` });
  }
  const type = meta[EXT.type];
  if (type !== undefined) {
    if ((FLAG_TYPES as readonly unknown[]).includes(type)) flag.type = type as FlagType;
    else issues.push({ path: `${at}.${EXT.type}`, message: `must be one of ${FLAG_TYPES.join(", ")}` });
  }
  const tags = readJsonExt(meta, EXT.tags, z.array(z.string()), at, issues);
  if (tags) flag.tags = tags;
  const prerequisites = readJsonExt(meta, EXT.prerequisites, z.array(Prerequisite), at, issues);
  if (prerequisites) flag.prerequisites = prerequisites;

  const native = readJsonExt(meta, EXT.targeting, NativeTargeting, at, issues);
  // Restore the native form only while the JSON Logic is exactly what export derived from it.
  if (native && native.fingerprint === contentHash(flag.targeting ?? null)) {
    delete flag.targeting;
    if (native.targets) flag.targets = native.targets;
    if (native.rules) flag.rules = native.rules;
    if (native.fallthrough) flag.fallthrough = native.fallthrough;
    // Only while flagd's default variant is still the one export put there.
    const f = native.fallthrough;
    if (native.defaultVariant !== undefined && f && "variant" in f && f.variant === flag.defaultVariant) {
      flag.defaultVariant = native.defaultVariant;
    }
  }
}

function readJsonExt<T>(
  meta: Metadata,
  key: string,
  schema: z.ZodMiniType<T>,
  at: string,
  issues: Issue[],
): T | undefined {
  const text = meta[key];
  if (text === undefined) return undefined;
  const path = `${at}.${key}`;
  if (typeof text !== "string") {
    issues.push({ path, message: "must be a JSON-encoded string" });
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.push({ path, message: "must be a JSON-encoded string (not valid JSON)" });
    return undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    issues.push(...zodIssues(parsed.error.issues, path));
    return undefined;
  }
  return parsed.data;
}

/**
 * `segment.<key>` evaluators are what export derived from native segments; once those segments
 * are restored they are redundant, unless JSON Logic still `$ref`s them (e.g. a flag whose
 * targeting was edited in flagd form).
 */
function dropGeneratedSegmentEvaluators(
  evaluators: Record<string, unknown>,
  segments: readonly Segment[],
  flags: readonly Flag[],
): Record<string, unknown> | undefined {
  const generated = new Set(segments.map((s) => segmentEvaluatorName(s.key)));
  const used = new Set<string>();
  for (const f of flags) collectRefs(f.targeting, used);
  for (const [name, logic] of Object.entries(evaluators)) if (!generated.has(name)) collectRefs(logic, used);
  const out: Record<string, unknown> = {};
  for (const [name, logic] of Object.entries(evaluators)) if (!generated.has(name) || used.has(name)) out[name] = logic;
  return Object.keys(out).length > 0 ? out : undefined;
}

function collectRefs(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, into);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") into.add(v);
      else collectRefs(v, into);
    }
  }
}

function readEvaluators(
  value: unknown,
  issues: Issue[],
): { evaluators?: Record<string, unknown>; segments: Segment[]; segmentsStated: boolean } {
  if (value === undefined) return { segments: [], segmentsStated: false };
  if (!isObject(value)) {
    issues.push({ path: "$evaluators", message: "must be an object of evaluator name → JSON Logic" });
    return { segments: [], segmentsStated: false };
  }
  const evaluators: Record<string, unknown> = {};
  let segments: Segment[] = [];
  for (const [name, logic] of Object.entries(value)) {
    if (name === SEGMENTS_EVALUATOR) {
      // Written as {"cat": ["<JSON>"]} (see SEGMENTS_EVALUATOR).
      const text = isObject(logic) && Array.isArray(logic.cat) && logic.cat.length === 1 ? logic.cat[0] : logic;
      segments = readJsonExt({ [name]: text as never }, name, z.array(Segment), "$evaluators", issues) ?? [];
    } else {
      evaluators[name] = logic;
    }
  }
  return {
    evaluators: Object.keys(evaluators).length > 0 ? evaluators : undefined,
    segments,
    segmentsStated: Object.hasOwn(value, SEGMENTS_EVALUATOR),
  };
}

function readMetadata(value: unknown, at: string, issues: Issue[]): Metadata | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    issues.push({ path: at, message: "must be an object of key → string, number or boolean" });
    return undefined;
  }
  const out: Metadata = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) out[k] = v;
    else
      issues.push({
        path: `${at}.${k}`,
        message: `metadata values must be a string, number or boolean, got ${describe(v)}`,
      });
  }
  return out;
}

/** Walks JSON Logic for `{"$ref": name}` nodes and reports names `$evaluators` lacks. */
function checkRefs(node: unknown, at: string, evaluators: Record<string, unknown> | undefined, issues: Issue[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkRefs(item, `${at}[${i}]`, evaluators, issues));
  } else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref") {
        if (typeof v !== "string") issues.push({ path: `${at}.$ref`, message: "must be the name of an evaluator" });
        else if (!evaluators || !Object.hasOwn(evaluators, v)) {
          issues.push({ path: `${at}.$ref`, message: `${show(v)} is not defined in $evaluators` });
        }
      } else {
        checkRefs(v, `${at}.${k}`, evaluators, issues);
      }
    }
  }
}

/** All booleans → boolean, all numbers → number, all strings → string, otherwise object. */
export function inferType(values: readonly unknown[]): FlagType {
  if (values.length === 0) return "object";
  if (values.every((v) => typeof v === "boolean")) return "boolean";
  if (values.every((v) => typeof v === "number")) return "number";
  if (values.every((v) => typeof v === "string")) return "string";
  return "object";
}

/** Issues of the native document, with `flags[i]` shown by flag key (the flagd file's own form). */
function byFlagKey(list: readonly ZodIssueLike[], flagKeys: readonly string[]): Issue[] {
  return zodIssues(
    list.map((issue) => {
      const [head, index, ...rest] = issue.path;
      return head === "flags" && typeof index === "number"
        ? { message: issue.message, path: [head, flagKeys[index]!, ...rest] }
        : issue;
    }),
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
const describe = (v: unknown) =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v;
