/**
 * Admin authentication and scope. `Authorization: Bearer <token>` is either the bootstrap
 * ADMIN_TOKEN (compared in constant time) or a scoped token minted through /tokens and found in
 * the Registry by its SHA-256. No ADMIN_TOKEN configured → every admin call is refused, scoped
 * tokens included (fail closed: a Worker deployed without the secret exposes nothing).
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AdminBindings as Env } from "./bindings";
import type { Actor, AdminTokenInfo } from "../core/wire/store-rpc";
import { sha256Hex } from "../core/sha256";
import { apiError } from "./errors";
import { registry } from "./stores";

/** What a request may touch, fixed once authenticated. */
export interface Scope {
  role: AdminTokenInfo["role"];
  /** undefined: every environment. */
  environments?: readonly string[];
}

export interface AdminVariables {
  /** "bootstrap" or the scoped token's id; recorded in the audit log by every store call. */
  actor: Actor;
  /** Who the token acts for (src/core/principal.ts): "bootstrap", or the token's principal. */
  principal: string;
  scope: Scope;
}

export type AdminEnv = { Bindings: Env; Variables: AdminVariables };

export const BOOTSTRAP_ACTOR = "bootstrap";

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Equal-length digests, so timingSafeEqual never throws and the token length does not leak. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(a), sha256(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

function unauthorized(c: Context, code: "UNAUTHORIZED" | "ADMIN_DISABLED", message: string): Response {
  c.header("WWW-Authenticate", 'Bearer realm="edgeflags-admin"');
  return apiError(c, 401, code, message);
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** Authenticates every admin request and sets `actor` and `scope`. */
export function authenticate() {
  return createMiddleware<AdminEnv>(async function authenticate(c, next) {
    const configured = c.env.ADMIN_TOKEN;
    if (!configured) {
      return unauthorized(c, "ADMIN_DISABLED", "the admin API is disabled: ADMIN_TOKEN is not configured");
    }
    const token = bearerToken(c.req.header("authorization"));
    if (!token) return unauthorized(c, "UNAUTHORIZED", "missing admin token: send Authorization: Bearer <token>");

    if (await sameSecret(token, configured)) {
      c.set("actor", BOOTSTRAP_ACTOR);
      c.set("principal", BOOTSTRAP_ACTOR);
      c.set("scope", { role: "admin" });
      return next();
    }
    const info = await registry(c).findAdminToken(await sha256Hex(token));
    if (!info || info.revokedAt) return unauthorized(c, "UNAUTHORIZED", "unknown or revoked admin token");
    c.set("actor", info.id);
    c.set("principal", info.principal);
    c.set("scope", { role: info.role, environments: info.environments });
    return next();
  });
}

export function canSeeEnvironment(scope: Scope, name: string): boolean {
  return !scope.environments || scope.environments.includes(name);
}

/** null when allowed, else the reason. `write` is any call that changes state. */
export function scopeRefusal(scope: Scope, environment: string | undefined, write: boolean): string | null {
  if (write && scope.role !== "admin") return "this token is read-only";
  if (environment !== undefined && !canSeeEnvironment(scope, environment)) {
    return `this token is not allowed on environment "${environment}"`;
  }
  return null;
}

export function forbidden(c: Context, message: string): Response {
  return apiError(c, 403, "FORBIDDEN", message);
}

/** Token management can widen access, so only an unrestricted admin may do it. */
export const requireFullAdmin = createMiddleware<AdminEnv>(async function requireFullAdmin(c, next) {
  const scope = c.get("scope");
  if (scope.role !== "admin" || scope.environments) {
    return forbidden(c, "managing admin tokens needs an admin token that is not limited to environments");
  }
  return next();
});
