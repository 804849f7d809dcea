/**
 * Results as values: the `Result` the core returns instead of throwing, and the `Issue` (a
 * problem with its JSON path) it lists on failure.
 * @module
 */

/** A problem in a definition, with its JSON path (e.g. `flags.checkout.rules[2].when.values`). */
export interface Issue {
  path: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: Issue[] };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(errors: Issue[]): Result<T> => ({ ok: false, errors });
