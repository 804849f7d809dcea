/**
 * zod issues as edgeflags `Issue`s: one path form everywhere (`flags[2].rules[0].when`, indexes in
 * brackets, keys dotted), so a store refusal, an admin 400 and a flagd import error name a field
 * the same way.
 * @module
 */
import type { Issue } from "./result";

/** What zod (full or mini) reports per problem. */
export interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** `prefix` then each step of `path`: `[i]` for an index, `.key` for a key (no dot at the start). */
export function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : (out === "" ? "" : ".") + String(part);
  return out;
}

export function zodIssues(issues: readonly ZodIssueLike[], prefix = ""): Issue[] {
  return issues.map((i) => ({ path: issuePath(prefix, i.path), message: i.message }));
}
