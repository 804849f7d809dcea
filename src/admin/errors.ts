/**
 * Every admin failure answers the same JSON shape: `{"error":{"code","message",…}}`.
 * Store refusals (values, never exceptions) and zod failures map here to their HTTP status.
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { StoreError } from "../core/wire/store-rpc";
import type { Issue } from "../core/result";
import type { ErrorBody, HttpErrorCode } from "../core/wire/dto/errors";

export type { ErrorBody, HttpErrorCode };

export function errorBody(code: HttpErrorCode, message: string, extra?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...extra } };
}

export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: HttpErrorCode,
  message: string,
  extra?: Record<string, unknown>,
): Response {
  return c.json(errorBody(code, message, extra), status);
}

/** 400 naming each offending field, in the message too so a terminal shows it at a glance. */
export function invalid(c: Context, issues: Issue[], what = "request"): Response {
  const summary = issues
    .slice(0, 3)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join("; ");
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
  return apiError(c, 400, "INVALID", `invalid ${what}: ${summary}${more}`, { issues });
}

/**
 * The HTTP face of a store refusal (mapping fixed in src/core/wire/store-rpc.ts). `environment` names the
 * store's environment in a no_environment 404; by default the one the route is under.
 */
export function storeErrorResponse(c: Context, err: StoreError, environment?: string): Response {
  switch (err.code) {
    case "invalid":
      return invalid(c, err.issues, "definition");
    case "no_environment": {
      const name = environment ?? (c.get("environment") as string | undefined);
      return apiError(c, 404, "NOT_FOUND", name === undefined ? err.message : `environment "${name}" does not exist`);
    }
    case "not_found":
      return apiError(c, 404, "NOT_FOUND", err.message);
    case "precondition_failed":
      // The current ETag lets a client re-read and retry without a second round trip to learn it.
      c.header("ETag", `"${err.currentVersion}"`);
      return apiError(c, 412, "PRECONDITION_FAILED", err.message, { currentVersion: err.currentVersion });
    case "conflict":
      return apiError(c, 409, "CONFLICT", err.message);
    case "forbidden":
      return apiError(c, 403, "FORBIDDEN", err.message);
    case "approval_required":
      // The environment's policy (src/store/releases/approval-gate.ts) held the write: nothing changed.
      // Its creator is the caller: the principal is the one authentication found.
      return c.json(
        {
          changeRequest: {
            ...err.changeRequest,
            createdByPrincipal: (c.get("principal") as string | undefined) ?? err.changeRequest.createdBy,
          },
        },
        202,
      );
  }
}
