/**
 * The gate of every `/environments/{env}…` route, declared by the route itself:
 * `environmentAccess("read")` or `environmentAccess("write")` sits first in its handler list, so
 * what a token may do follows from the route that matched, never from the URL's shape. Scope first
 * (so a scoped token learns nothing about environments it may not see), then the name pattern,
 * then the store stub is handed to the route in typed Variables.
 *
 * Existence is not checked here: the route's own store call answers `no_environment` (404), so a
 * call costs one Durable Object round trip, not two.
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { AdminBindings as Env } from "./bindings";
import type { EnvironmentStoreApi } from "../core/wire/store-rpc";
import { ENVIRONMENT_PATTERN } from "../core/wire/kv-layout";
import type { AdminVariables } from "./auth";
import { forbidden, scopeRefusal } from "./auth";
import { apiError, invalid } from "./errors";
import { environmentStore } from "./stores";

export interface EnvironmentVariables extends AdminVariables {
  environment: string;
  store: EnvironmentStoreApi;
}
export type EnvironmentEnv = { Bindings: Env; Variables: EnvironmentVariables };

/** "read": changes nothing (GETs, explain); "write": any call that changes state. */
export type Access = "read" | "write";

export function unknownEnvironment(c: Parameters<typeof apiError>[0], name: string): Response {
  return apiError(c, 404, "NOT_FOUND", `environment "${name}" does not exist`);
}

/**
 * `creates`: the route creates the environment, so a name the pattern refuses is a 400 (for every
 * other route such a name can never have been created: 404).
 */
export function environmentAccess(access: Access, options: { creates?: boolean } = {}) {
  return createMiddleware<EnvironmentEnv>(async function environmentAccess(c, next) {
    const name = c.req.param("env") ?? "";
    const refusal = scopeRefusal(c.get("scope"), name, access === "write");
    if (refusal) return forbidden(c, refusal);
    if (!ENVIRONMENT_PATTERN.test(name)) {
      if (options.creates)
        return invalid(c, [{ path: "env", message: "must match " + ENVIRONMENT_PATTERN.source }], "environment name");
      return unknownEnvironment(c, name);
    }
    c.set("environment", name);
    c.set("store", environmentStore(c, name));
    return next();
  });
}

export const readAccess = environmentAccess("read");
export const writeAccess = environmentAccess("write");
