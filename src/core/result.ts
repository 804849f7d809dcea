/**
 * Results as values: the `Result` the core returns instead of throwing, and the `Issue` (a
 * problem with its JSON path) it lists on failure.
 * @module
 */

import type { Issue } from "./wire/dto/errors";
export type { Issue };

export type Result<T> = { ok: true; value: T } | { ok: false; errors: Issue[] };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(errors: Issue[]): Result<T> => ({ ok: false, errors });
