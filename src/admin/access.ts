/**
 * The gate in front of every `/environments/{env}/…` call: scope first (so a scoped token learns
 * nothing about environments it may not see), then existence (404), then the store stub is handed
 * to the route in typed Variables.
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { Env } from "../env";
import type { EnvironmentStoreApi } from "../store/api";
import { ENVIRONMENT_PATTERN } from "../core/kv-contract";
import type { AdminVariables } from "./auth";
import { forbidden, scopeRefusal } from "./auth";
import { apiError } from "./errors";
import { environmentStore } from "./stores";

export interface EnvironmentVariables extends AdminVariables {
  environment: string;
  store: EnvironmentStoreApi;
}
export type EnvironmentEnv = { Bindings: Env; Variables: EnvironmentVariables };

/** POSTs that only read (explain evaluates, it changes nothing): allowed to read-only tokens. */
const READ_ONLY_POSTS = /\/explain$/;
const ENVIRONMENT_RESOURCE = /\/environments\/[^/]+\/?$/;

export function isWrite(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD") return false;
  return !(method === "POST" && READ_ONLY_POSTS.test(path));
}

export function unknownEnvironment(c: Parameters<typeof apiError>[0], name: string): Response {
  return apiError(c, 404, "NOT_FOUND", `environment "${name}" does not exist`);
}

/** For everything under an existing environment (the environment resource itself checks inline). */
export function environmentAccess() {
  return createMiddleware<EnvironmentEnv>(async function environmentAccess(c, next) {
    // Hono's `/:env/*` also matches `/:env` itself, which environments.ts guards on its own.
    if (ENVIRONMENT_RESOURCE.test(c.req.path)) return next();
    const name = c.req.param("env") ?? "";
    const refusal = scopeRefusal(c.get("scope"), name, isWrite(c.req.method, c.req.path));
    if (refusal) return forbidden(c, refusal);
    // A name the pattern refuses can never have been created.
    if (!ENVIRONMENT_PATTERN.test(name)) return unknownEnvironment(c, name);
    const store = environmentStore(c, name);
    if (!(await store.info()).ok) return unknownEnvironment(c, name);
    c.set("environment", name);
    c.set("store", store);
    return next();
  });
}
