/**
 * Native EnvironmentDoc → flagd flag-definition document.
 *
 * Native targeting becomes one flat JSON Logic `if` chain in evaluation order: individual targets
 * (`in` on targetingKey), then rules, then the fallthrough as the final `else`. Segments become
 * `$evaluators` named `segment.<key>` that rules `$ref`. Flags imported from flagd keep their
 * JSON Logic unchanged.
 *
 * Lossless through edgeflags: what flagd cannot carry is written to namespaced metadata (`EXT` in
 * types.ts) and the native segments to the inert `$evaluators` entry "edgeflags.segments";
 * `importFlagd` reads both back. Where flagd itself would evaluate differently (prerequisites,
 * regex and date operators), the export lists a warning with the path of the part concerned.
 * flagd also reports every non-null targeting result as TARGETING_MATCH, so native SPLIT (rollout)
 * and fallthrough answers keep their value and variant in flagd but not their reason.
 * @module
 */
import type { EnvironmentDoc, Flag, Metadata, Segment } from "../model";
import type { Issue } from "../result";
import { contentHash } from "../canonical";
import { inferType } from "./import";
import { conditionToLogic, segmentToLogic, serveToLogic, targetLogic, type BuildContext } from "./jsonlogic-build";
import {
  EXT,
  EXT_KEYS,
  FLAGD_SCHEMA_URL,
  SEGMENTS_EVALUATOR,
  segmentEvaluatorName,
  type FlagdDocument,
  type FlagdFlag,
  type FlagdMetadata,
} from "./types";

export interface FlagdExport {
  document: FlagdDocument;
  /** What flagd evaluates differently from edgeflags, each with the path of the native part. */
  warnings: Issue[];
}

export function exportFlagd(doc: EnvironmentDoc): FlagdExport {
  const warnings: Issue[] = [];
  // A big segment's batch-added keys (up to 1,000,000) stay out of the document: they are named in
  // the warnings, and re-importing keeps them (the store never takes them from input).
  const segments: Segment[] = (doc.segments ?? []).map(({ bigKeys, ...segment }) => {
    if (bigKeys)
      warnings.push({
        path: `segments.${segment.key}`,
        message: `its ${bigKeys.count} keys added through …/segments/${segment.key}/keys are not exported (read them there); an import into this environment keeps them`,
      });
    return segment;
  });
  const segmentMap = new Map(segments.map((s) => [s.key, s]));

  const evaluators: Record<string, unknown> = { ...(doc.evaluators ?? {}) };
  delete evaluators[SEGMENTS_EVALUATOR];
  for (const segment of segments) {
    const logic = segmentToLogic(segment, {
      segments: segmentMap,
      warnings,
      inlineSegments: true,
      stack: [segment.key],
    });
    // flagd's schema wants an object per evaluator; `{"and": [false]}` is `false` as one.
    evaluators[segmentEvaluatorName(segment.key)] =
      typeof logic === "object" && logic !== null ? logic : { and: [logic] };
  }
  if (segments.length > 0) evaluators[SEGMENTS_EVALUATOR] = { cat: [JSON.stringify(segments)] };

  const flags: Record<string, FlagdFlag> = {};
  const ctx: BuildContext = { segments: segmentMap, warnings, inlineSegments: false };
  for (const flag of doc.flags) flags[flag.key] = exportFlag(flag, ctx);

  const document: FlagdDocument = { $schema: FLAGD_SCHEMA_URL, flags };
  if (Object.keys(evaluators).length > 0) document.$evaluators = evaluators;
  if (doc.metadata && Object.keys(doc.metadata).length > 0) {
    document.metadata = { ...doc.metadata };
    for (const key of ["flagSetId", "version"]) {
      const value = doc.metadata[key];
      if (value !== undefined && typeof value !== "string") {
        warnings.push({
          path: `metadata.${key}`,
          message: `flagd's schema wants a string here, got ${typeof value}: strict flagd validation rejects this document`,
        });
      }
    }
  }
  return { document, warnings };
}

function exportFlag(flag: Flag, ctx: BuildContext): FlagdFlag {
  const at = `flags.${flag.key}`;
  const out: FlagdFlag = {
    state: flag.enabled === false ? "DISABLED" : "ENABLED",
    variants: { ...flag.variants } as FlagdFlag["variants"],
  };
  // Absent rather than null: older flagd versions reject a null defaultVariant.
  if (flag.defaultVariant != null) out.defaultVariant = flag.defaultVariant;

  const metadata: FlagdMetadata = {};
  for (const [k, v] of Object.entries(flag.metadata ?? {})) {
    if (EXT_KEYS.has(k)) {
      ctx.warnings.push({
        path: `${at}.metadata.${k}`,
        message: "metadata key is reserved for edgeflags extensions: not exported",
      });
    } else {
      metadata[k] = v;
    }
  }

  const hasNative = flag.targets !== undefined || flag.rules !== undefined || flag.fallthrough !== undefined;
  if (flag.targeting !== undefined) {
    out.targeting = flag.targeting;
    if (hasNative) {
      ctx.warnings.push({
        path: at,
        message:
          "flag has both JSON Logic targeting and native targets/rules/fallthrough: only the JSON Logic is exported",
      });
    }
  } else if (hasNative) {
    const logic = nativeToLogic(flag, ctx);
    if (logic !== undefined) out.targeting = logic;
    const native: Record<string, unknown> = { fingerprint: contentHash(logic ?? null) };
    const fixed = staticVariant(flag);
    if (fixed !== undefined) {
      // Served to everyone (STATIC): in flagd that is the default variant of a flag without
      // targeting. The real default variant travels in the extension.
      out.defaultVariant = fixed;
      native.defaultVariant = flag.defaultVariant ?? null;
    }
    if (flag.targets !== undefined) native.targets = flag.targets;
    if (flag.rules !== undefined) native.rules = flag.rules;
    if (flag.fallthrough !== undefined) native.fallthrough = flag.fallthrough;
    metadata[EXT.targeting] = JSON.stringify(native);
  }

  if (flag.prerequisites && flag.prerequisites.length > 0) {
    const list = flag.prerequisites.map((p) => `${p.flag}=${p.variant}`).join(", ");
    ctx.warnings.push({
      path: `${at}.prerequisites`,
      message: `flagd has no prerequisites (${list}): flagd evaluates this flag as if they were met (kept in metadata "${EXT.prerequisites}")`,
    });
  }
  if (flag.prerequisites !== undefined) metadata[EXT.prerequisites] = JSON.stringify(flag.prerequisites);
  if (flag.clientVisible) metadata[EXT.clientVisible] = true;
  if (flag.description !== undefined) metadata[EXT.description] = flag.description;
  if (flag.kind !== undefined) metadata[EXT.kind] = flag.kind;
  if (flag.tags !== undefined) metadata[EXT.tags] = JSON.stringify(flag.tags);
  if (inferType(Object.values(flag.variants)) !== flag.type) metadata[EXT.type] = flag.type;

  if (Object.keys(metadata).length > 0) out.metadata = metadata as Metadata;
  return out;
}

/**
 * The variant a flag with neither targets nor rules nor prerequisites serves to everyone, when
 * its fallthrough names one other than the default (the native engine answers it as STATIC).
 */
function staticVariant(flag: Flag): string | undefined {
  if ((flag.targets?.length ?? 0) > 0 || (flag.rules?.length ?? 0) > 0 || (flag.prerequisites?.length ?? 0) > 0)
    return undefined;
  const f = flag.fallthrough;
  return f && "variant" in f && f.variant !== flag.defaultVariant ? f.variant : undefined;
}

/**
 * targets → rules → fallthrough as one flat `if` chain; undefined when there is nothing to test.
 * Targets without keys stay in the chain: a flag with targets or rules answers DEFAULT, not STATIC,
 * when nothing matches, and a present `targeting` is what makes flagd say DEFAULT too.
 */
function nativeToLogic(flag: Flag, ctx: BuildContext): unknown {
  const at = `flags.${flag.key}`;
  const chain: unknown[] = [];
  for (const target of flag.targets ?? []) chain.push(targetLogic(target.values), target.variant);
  (flag.rules ?? []).forEach((rule, i) => {
    chain.push(conditionToLogic(rule.when, `${at}.rules[${i}].when`, ctx), serveToLogic(rule.serve));
  });
  // Serving the default variant needs no JSON Logic: flagd's null result does it, with the same
  // reason (DEFAULT, or STATIC for a flag without targeting) as the native engine.
  const fallthrough =
    flag.fallthrough && !("variant" in flag.fallthrough && flag.fallthrough.variant === flag.defaultVariant)
      ? flag.fallthrough
      : undefined;
  if (chain.length === 0) {
    if (fallthrough === undefined) return undefined;
    if ("rollout" in fallthrough) return serveToLogic(fallthrough);
    // Exported as the default variant instead, when the flag is static (see staticVariant).
    return staticVariant(flag) !== undefined ? undefined : { if: [true, fallthrough.variant] };
  }
  if (fallthrough !== undefined) chain.push(serveToLogic(fallthrough));
  return { if: chain };
}
