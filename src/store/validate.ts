/**
 * The first gate every change passes: the zod model for the piece (and the size and duplicate-key
 * bounds zod cannot express). The store then compiles the whole resulting document
 * (`EnvironmentStore.commit`); nothing is stored unless both succeed.
 * @module
 */
import { EnvironmentDoc, Flag, Segment } from "../core/model";
import type { Issue, Result } from "../core/result";

/** One flag's (or segment body's) JSON may not exceed this: its audit row holds it twice (before and after), under SQLite's 2 MB row limit. */
export const MAX_FLAG_JSON = 512 * 1024;

type SafeParse<T> = { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : (out === "" ? "" : ".") + String(part);
  return out;
}

function parse<T>(schema: { safeParse(input: unknown): unknown }, input: unknown, prefix: string): Result<T> {
  const parsed = schema.safeParse(input) as SafeParse<T>;
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => ({ path: formatPath(prefix, i.path), message: i.message })) };
}

export const parseFlag = (input: unknown): Result<Flag> => {
  const parsed = parse<Flag>(Flag, input, "");
  if (parsed.ok && JSON.stringify(parsed.value).length > MAX_FLAG_JSON) {
    return { ok: false, errors: [{ path: "", message: `flag definition larger than ${MAX_FLAG_JSON} bytes` }] };
  }
  return parsed;
};
/** A segment without its key lists (those are stored one row per key) must fit the same bound as a flag. */
function segmentTooLarge(segment: Segment): boolean {
  const { included: _i, excluded: _e, ...body } = segment;
  return JSON.stringify(body).length > MAX_FLAG_JSON;
}

export const parseSegment = (input: unknown): Result<Segment> => {
  const parsed = parse<Segment>(Segment, input, "");
  if (parsed.ok && segmentTooLarge(parsed.value)) {
    return { ok: false, errors: [{ path: "rules", message: `segment definition (without key lists) larger than ${MAX_FLAG_JSON} bytes` }] };
  }
  return parsed;
};

export function parseDoc(input: unknown): Result<EnvironmentDoc> {
  const parsed = parse<EnvironmentDoc>(EnvironmentDoc, input, "");
  if (!parsed.ok) return parsed;
  const issues: Issue[] = [];
  const seenFlags = new Set<string>();
  for (const [i, flag] of parsed.value.flags.entries()) {
    if (seenFlags.has(flag.key)) issues.push({ path: `flags[${i}].key`, message: `duplicate flag key "${flag.key}"` });
    seenFlags.add(flag.key);
    if (JSON.stringify(flag).length > MAX_FLAG_JSON) issues.push({ path: `flags[${i}]`, message: `flag definition larger than ${MAX_FLAG_JSON} bytes` });
  }
  const seenSegments = new Set<string>();
  for (const [i, segment] of parsed.value.segments.entries()) {
    if (seenSegments.has(segment.key)) issues.push({ path: `segments[${i}].key`, message: `duplicate segment key "${segment.key}"` });
    seenSegments.add(segment.key);
    if (segmentTooLarge(segment)) issues.push({ path: `segments[${i}].rules`, message: `segment definition (without key lists) larger than ${MAX_FLAG_JSON} bytes` });
  }
  return issues.length ? { ok: false, errors: issues } : parsed;
}
