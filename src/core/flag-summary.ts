/**
 * What a list of flags shows per row (the admin page's Flags and Insights tabs, the editor's
 * prerequisite picker), without the definitions: rule trees, target key lists and object values
 * stay on the server until one flag is opened. `GET …/flags?view=summary` answers these; the
 * plain list keeps answering full definitions for existing clients.
 * @module
 */
import type { Flag } from "./model";

/** Longest default value text a summary carries; longer ones end in "…". */
export const SUMMARY_VALUE_CHARS = 40;

export interface FlagSummary {
  key: string;
  type: Flag["type"];
  kind?: Flag["kind"];
  /** The flag's description, or flagd's habit of keeping it in `metadata.description`. */
  description?: string;
  tags?: string[];
  enabled: boolean;
  clientVisible: boolean;
  version: number;
  defaultVariant: string | null;
  /** The default variant's value as JSON text (cut to SUMMARY_VALUE_CHARS); absent for objects and no default. */
  defaultValue?: string;
  /** Variant names, in definition order (prerequisite pickers offer them). */
  variants: string[];
  /** How the flag decides, in counts: `logic` means flagd JSON Logic instead of native targeting. */
  targeting: { logic: boolean; targets: number; rules: number; rollout: boolean; prerequisites: number };
}

export function flagSummary(flag: Flag & { version: number }): FlagSummary {
  const meta = flag.metadata?.description;
  const description = flag.description || (typeof meta === "string" ? meta : undefined);
  const defaultVariant = flag.defaultVariant ?? null;
  const value = defaultVariant === null ? undefined : flag.variants[defaultVariant];
  const text = value === undefined || flag.type === "object" ? undefined : JSON.stringify(value);
  return {
    key: flag.key,
    type: flag.type,
    ...(flag.kind ? { kind: flag.kind } : {}),
    ...(description ? { description } : {}),
    ...(flag.tags?.length ? { tags: flag.tags } : {}),
    enabled: flag.enabled,
    clientVisible: flag.clientVisible,
    version: flag.version,
    defaultVariant,
    ...(text === undefined
      ? {}
      : { defaultValue: text.length > SUMMARY_VALUE_CHARS ? `${text.slice(0, SUMMARY_VALUE_CHARS - 1)}…` : text }),
    variants: Object.keys(flag.variants),
    targeting: {
      logic: flag.targeting !== undefined && flag.targeting !== null,
      targets: (flag.targets ?? []).reduce((n, t) => n + t.values.length, 0),
      rules: flag.rules?.length ?? 0,
      rollout: flag.fallthrough !== undefined && "rollout" in flag.fallthrough,
      prerequisites: flag.prerequisites?.length ?? 0,
    },
  };
}
