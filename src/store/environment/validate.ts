/**
 * The first gate every change passes: the shape bounds (core/limits.ts), the zod model for the
 * piece, and the size bounds zod cannot express. The store then compiles the whole resulting document
 * (`EnvironmentStore.commit`); nothing is stored unless both succeed.
 * @module
 */
import { EnvironmentDoc, Flag, Segment } from "../../core/model";
import { zodIssues, type ZodIssueLike } from "../../core/issues";
import { checkJsonShape, DOCUMENT_LIMITS } from "../../core/limits";
import type { Issue, Result } from "../../core/result";

/** One flag's (or segment body's) JSON may not exceed this: its audit row holds it twice (before and after), under SQLite's 2 MB row limit. */
export const MAX_FLAG_JSON = 512 * 1024;

type SafeParse<T> = { success: true; data: T } | { success: false; error: { issues: readonly ZodIssueLike[] } };

/**
 * The shape bounds first (iterative: a value nested 100,000 levels deep is refused before zod's
 * recursion sees it; the admin routes check the same before calling the store), then zod.
 */
function parse<T>(schema: { safeParse(input: unknown): unknown }, input: unknown): Result<T> {
  const problem = checkJsonShape(input, DOCUMENT_LIMITS);
  if (problem) return { ok: false, errors: [problem] };
  const parsed = schema.safeParse(input) as SafeParse<T>;
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: zodIssues(parsed.error.issues) };
}

export const parseFlag = (input: unknown): Result<Flag> => {
  const parsed = parse<Flag>(Flag, input);
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
  const parsed = parse<Segment>(Segment, input);
  if (parsed.ok && segmentTooLarge(parsed.value)) {
    return {
      ok: false,
      errors: [{ path: "rules", message: `segment definition (without key lists) larger than ${MAX_FLAG_JSON} bytes` }],
    };
  }
  return parsed;
};

export function parseDoc(input: unknown): Result<EnvironmentDoc> {
  const parsed = parse<EnvironmentDoc>(EnvironmentDoc, input);
  if (!parsed.ok) return parsed;
  // Duplicate keys are refused by compileEnvironment, which every change passes (commit).
  const issues: Issue[] = [];
  for (const [i, flag] of parsed.value.flags.entries()) {
    if (JSON.stringify(flag).length > MAX_FLAG_JSON)
      issues.push({ path: `flags[${i}]`, message: `flag definition larger than ${MAX_FLAG_JSON} bytes` });
  }
  for (const [i, segment] of parsed.value.segments.entries()) {
    if (segmentTooLarge(segment))
      issues.push({
        path: `segments[${i}].rules`,
        message: `segment definition (without key lists) larger than ${MAX_FLAG_JSON} bytes`,
      });
  }
  return issues.length ? { ok: false, errors: issues } : parsed;
}

/** A paging argument from an RPC caller: a finite number, or absent. */
export function optionalNumber(n: unknown): number | undefined {
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}
