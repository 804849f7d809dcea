/**
 * ETags of admin resources are the environment version of the item's last change: `"12"`.
 * @module
 */
import type { Context } from "hono";
import { apiError } from "./errors";

export const etag = (version: number) => `"${version}"`;

/**
 * What `If-Match` asks for: nothing (absent), any current item (`*`), or one version. Accepts
 * `"12"`, `12` and `W/"12"` (weak and strong tags compare alike here: a version names one state).
 * A tag that is not a version can never match, so it is kept as -1 and answers 412.
 */
export type IfMatch = { kind: "none" } | { kind: "any" } | { kind: "version"; version: number } | { kind: "list" };

export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const value = header.trim();
  if (value === "*") return { kind: "any" };
  if (value.includes(",")) return { kind: "list" };
  const match = /^(?:W\/)?"?([^"]*)"?$/.exec(value);
  const digits = match?.[1] ?? "";
  return { kind: "version", version: /^\d{1,15}$/.test(digits) ? Number(digits) : -1 };
}

export function ifMatchListRefused(c: Context): Response {
  return apiError(c, 400, "INVALID", "If-Match with several entity tags is not supported: send one", {
    issues: [{ path: "If-Match", message: "send one entity tag" }],
  });
}
